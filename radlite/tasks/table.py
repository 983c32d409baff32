"""What a task declares about the table it writes: its columns and doc, and everything keyed by the table.

One ``TaskTable`` per task table, declared in the task's module beside the task (tasks that write one
table, N and M staging, share one object). The table contract (radlite.tables), the review kit
(radlite.review), the exports (radlite.export) and the timeline read these declarations from the
task registry (radlite.tasks.TASKS); none keeps its own map by table name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from radlite.columns import EVIDENCE_COLUMNS, TASK_COLUMNS, Column


@dataclass(frozen=True)
class ReviewView:
    """How the rows of one table are shown to a reviewer and counted (radlite.review.views).

    ``table`` is filled in from the TaskTable that holds the view.
    """

    #: Columns that tell one report's rows of this table apart (besides task).
    key: tuple[str, ...]
    label: Callable[[dict], str]
    value: Callable[[dict], str]
    status: Callable[[dict], str]
    #: Columns that tell rows apart only where they are set (a site row beside its report's row); a
    #: row without them keeps the id it had before they existed.
    optional_key: tuple[str, ...] = ()
    table: str = ""


class ExportedValue(NamedTuple):
    """What one valid row says, as the exports carry it (radlite.export.values.StructuredValue).

    kind: rads, n_stage, m_stage, chexpert, temporal_change or entity; name: what it is about; value: the
    answer; assertion: present, absent or uncertain (None: not an assertion, e.g. a stage).
    """

    kind: str
    name: str
    value: str
    assertion: str | None


@dataclass(frozen=True, eq=False)
class TaskTable:
    """A task table: name, doc, the task's own value columns, and whether its rows carry evidence columns.

    Optional parts, each read by one consumer: ``review`` (the review kit's view of a row), ``export``
    (the values FHIR and OMOP carry of a valid row: empty when the row claims nothing), ``fhir_titles``.
    Compared by identity: tasks that write one table share one object.
    """

    name: str
    doc: str
    #: The task's value columns; the contract puts TASK_COLUMNS (and EVIDENCE_COLUMNS) before them.
    values: tuple[Column, ...]
    #: Every row points at its evidence in the report (evidence, grounded, supported columns).
    evidence: bool
    #: Value columns (start, end) that repeat where the value is in the report: written from the row's
    #: evidence, so the two never point at different words.
    offsets: tuple[str, str] | None = None
    review: ReviewView | None = None
    export: Callable[[dict], list[ExportedValue]] | None = None
    #: Exported kind -> the FHIR Observation's code text ("{name}" is the value's name); kinds not named
    #: here are not Observations (entities: NOTE_NLP rows only, their value is report words).
    fhir_titles: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not self.values:
            raise ValueError(f"task table {self.name!r} declares no value columns")
        if self.review is not None and self.review.table != self.name:
            object.__setattr__(self, "review", replace(self.review, table=self.name))

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column of the table, in file order."""
        return TASK_COLUMNS + (EVIDENCE_COLUMNS if self.evidence else ()) + self.values


def found_nothing(row: dict, *columns: str) -> bool:
    """The row a task writes when it found nothing: every one of ``columns`` empty."""
    return not any(row.get(c) for c in columns)


def at_site(label: str, row: dict) -> str:
    """A site row's label names its site ("BI-RADS (left breast)")."""
    return f"{label} ({row['site']})" if row.get("site") else label


class DerivedMapping(Mapping):
    """A read-only mapping rebuilt from the task registry at each use, so a task registered after import
    is in it: the side maps keyed by table (radlite.tables.TABLES, radlite.review.views.VIEWS) are these."""

    def __init__(self, build: Callable[[], dict]):
        self._build = build

    def __getitem__(self, key):
        return self._build()[key]

    def __iter__(self) -> Iterator:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())
