"""What every model kind is: its routing traits, its entry options, and how it loads, answers, checks
and smoke-tests an entry.

A kind answers the instances routed to one entry for several reports at once (``Asked``), and gives
per report the rows it wrote and the instances it leaves open for the next entry of a cascade
(``Answered``). ``eager`` kinds (the rules: nothing to load, nothing to batch) answer while a record
is planned; the others wait for a batch of records (the pipeline's RunInference step).

A routing entry is the options of its kind (``ModelEntry`` subclassed per kind, ``kind`` the
discriminator), so a rules entry has no ``n_ctx`` and a llama.cpp entry has no field another kind reads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Annotated, NamedTuple, Protocol, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from radlite.inference.cache import ResultCache
from radlite.inference.failures import ModelFailure
from radlite.inference.runner import InferenceCounts
from radlite.registry import Registry
from radlite.report import Report
from radlite.tasks import TaskInstance

#: The kind of a routing entry that names none (every entry was a llama.cpp model before rules routed).
DEFAULT_KIND = "llama.cpp"


class Asked(NamedTuple):
    """One report's instances routed to one entry; ``passes_on[i]``: a next entry takes instance i if this
    one leaves it open."""

    report: Report
    instances: list[TaskInstance]
    passes_on: list[bool]
    counts: InferenceCounts


class Answered(NamedTuple):
    """What one entry gave for one report: (table, row) pairs, and the instances it left open."""

    rows: list[tuple[str, dict]]
    open: list[TaskInstance]


class Answerer(Protocol):
    """A loaded entry of some kind."""

    def answer(self, asked: list[Asked], run_id: str, cache: ResultCache | None) -> list[Answered]: ...


#: A solved example for a k-shot prompt: a report, the task instance asked of it, and its answer.
Shot = tuple[Report, TaskInstance, str]


class Smoke(NamedTuple):
    """What one smoke decode of an entry gave: its rows, the model calls that failed, what it cost."""

    rows: list[tuple[str, dict]]
    failures: list[ModelFailure]
    counts: InferenceCounts


class ModelEntry(BaseModel):
    """One routing entry: the kind that answers it and that kind's own options (a subclass per kind).

    ``ModelEntry(kind=..., **options)`` makes the entry of the kind named (llama.cpp when none is), so
    code that writes an entry (``radlite train model-table``) need not know the kinds' classes."""

    model_config = ConfigDict(frozen=True)

    kind: str = DEFAULT_KIND
    #: Key of the entry this entry's tasks use when its files are not installed: for an adapter whose
    #: licence keeps it out of the package and is installed apart (radlite.routing.separate_model_dirs).
    fallback: str | None = None

    def __new__(cls, *args, **options):
        if cls is ModelEntry:
            cls = get_kind(options.get("kind", DEFAULT_KIND)).options
        return super().__new__(cls)

    @model_validator(mode="wrap")
    @classmethod
    def _of_its_kind(cls, data, handler):
        """Read as ModelEntry (a routing table's ``models``), an entry is read as the options of its kind."""
        return entry_of(data) if cls is ModelEntry else handler(data)

    @property
    def traits(self) -> ModelKind:
        """The entry's kind: what a routing table may do with it, and how it loads and answers."""
        return get_kind(self.kind)

    def label(self) -> str:
        """The ``model_id`` of the rows the entry writes."""
        return self.traits.model_id(self)

    def files(self) -> list[tuple[str, str | None]]:
        """(path, declared sha256) of every file the entry loads (none: a kind that loads no file)."""
        return []

    def with_paths(self, rename: Callable[[str], str]) -> ModelEntry:
        """The entry with every file it loads renamed by ``rename`` (resolved, or made relative)."""
        return self

    def pinned(self) -> ModelEntry:
        """The entry with the sha256 of every file it loads filled in."""
        return self


class ModelKind:
    """One kind of model, declared once: its traits (what a routing table may do with its entries), its
    entry options (``options``), and how it loads, answers, checks and smoke-tests an entry. Register
    an instance with ``register`` (radlite.kinds does, once per kind)."""

    name: str = ""
    #: The entry options of this kind: a ModelEntry subclass whose ``kind`` is Literal[name].
    options: type[ModelEntry] = ModelEntry
    #: The entry names model files (and adapters, a prompt profile) that are resolved, hashed and loaded.
    loads_files: bool = False
    #: It may leave an instance open for the next entry of a route (a cascade); a kind that answers
    #: every instance it is asked can only be the last entry of a route.
    passes_on: bool = False
    #: Answers while a record is planned (no model to load, nothing gained by batching).
    eager: bool = False
    #: The tasks it can answer (None: every task).
    tasks: frozenset[str] | None = None

    def answers(self, task: str) -> bool:
        return self.tasks is None or task in self.tasks

    def model_id(self, entry: ModelEntry) -> str:
        """The ``model_id`` column of the rows this entry writes."""
        raise NotImplementedError

    def load(self, entry: ModelEntry, load_model: Callable | None = None, shots: Sequence[Shot] = ()) -> Answerer:
        """``entry`` ready to answer; ``load_model`` replaces the kind's loader (tests' fake models, a
        benchmark's own decoder settings); ``shots``: solved examples put before every question."""
        raise NotImplementedError

    def check(self, entry: ModelEntry) -> list[str]:
        """What is wrong with the entry's files, beyond their sha256 (`radlite models validate`)."""
        return []

    def smoke(self, entry: ModelEntry, report: Report, instances: list[TaskInstance]) -> Smoke:
        """``report``'s ``instances`` answered by ``entry`` as a run answers them (`radlite doctor`)."""
        counts = InferenceCounts()
        answered = self.load(entry).answer([Asked(report, instances, [False] * len(instances), counts)],
                                           "doctor", None)
        rows = [row for a in answered for row in a.rows]
        failures = [f for _, row in rows if (f := ModelFailure.of_row(row.get("error"), row["model_id"]))]
        return Smoke(rows, failures, counts)

    def may_fit(self, entry: ModelEntry, failure: ModelFailure) -> bool:
        """Whether ``entry`` may get past a deterministic ``failure`` (a context overflow) that a call
        on the same model met: the next incremental run plans it again only then (pipelines.retry)."""
        return True


#: Every model kind by name (radlite.kinds registers the built-in ones).
KINDS: Registry[ModelKind] = Registry("model kind")
#: Declare a kind: routing tables may name it, and it loads and answers their entries.
register = KINDS.register
get_kind = KINDS.named


@functools.cache
def _entries_of(options: tuple[type[ModelEntry], ...]) -> TypeAdapter:
    """The registered kinds' entry options as one pydantic union, discriminated by ``kind``."""
    union = options[0] if len(options) == 1 else Annotated[Union[options], Field(discriminator="kind")]  # noqa: UP007
    return TypeAdapter(union)


def entry_of(data: dict | ModelEntry) -> ModelEntry:
    """A routing table's entry read as the options of its kind (an entry naming no kind is a llama.cpp
    entry, as routing tables were written before kinds)."""
    if isinstance(data, ModelEntry):
        return data
    data = {"kind": DEFAULT_KIND, **data}
    get_kind(data["kind"])  # an unknown kind is said with the known ones
    return _entries_of(tuple(k.options for k in KINDS.values())).validate_python(data)
