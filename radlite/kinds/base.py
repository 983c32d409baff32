"""What every model kind is: load a routing entry, answer a batch of task instances, name its model_id.

A kind answers the instances routed to one entry for several reports at once (``Asked``), and gives
per report the rows it wrote and the instances it leaves open for the next entry of a cascade
(``Answered``). ``eager`` kinds (the rules: nothing to load, nothing to batch) answer while a record
is planned; the others wait for a batch of records (the pipeline's RunInference step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from radlite.inference.cache import ResultCache
from radlite.inference.runner import InferenceCounts
from radlite.report import Report
from radlite.routing import ModelEntry
from radlite.tasks import TaskInstance


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


class ModelKind:
    """How one kind of model loads and answers. Subclasses set ``name`` (a kind declared with its
    routing traits in ``radlite.routing.kinds``) and implement ``load``; register them in
    ``radlite.kinds.KINDS``."""

    name: str = ""
    #: Answers while a record is planned (no model to load, nothing gained by batching).
    eager: bool = False

    def load(self, entry: ModelEntry, load_model: Callable | None = None) -> Answerer:
        """``entry`` ready to answer; ``load_model`` replaces the kind's loader (tests' fake models, a
        benchmark's own decoder settings)."""
        raise NotImplementedError

    def model_id(self, entry: ModelEntry) -> str:
        """The ``model_id`` column of the rows this entry writes (its kind's label trait)."""
        return entry.label()
