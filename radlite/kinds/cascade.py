"""Task instances answered along their routes: the one answer path of `radlite run`, `radlite train eval`
and `radlite models validate`.

A task routes to one entry or to a chain (``[rules, model]``): each entry answers what it can and
leaves the rest open for the next. ``answer_pending`` runs the entries of a batch of reports in order
(an entry runs once nothing still waiting upstream could reach it), each entry once for the whole
batch, so a model decodes every report's instances together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from radlite.calibration import calibrated_rows, load_calibration
from radlite.inference.cache import ResultCache
from radlite.inference.runner import InferenceCounts
from radlite.kinds.base import Answerer, Asked, ModelEntry, get_kind
from radlite.report import Report
from radlite.tasks import TaskInstance


class Calibrated(Protocol):
    """What the cascade reads of a routing manifest: its calibration maps and per-table withholding floor."""

    calibration: str | None
    min_confidence: dict[str, float]


class RoutingTable(Protocol):
    """What the cascade reads of a routing table (radlite.routing.RoutingTable, which stands above the kinds)."""

    models: dict[str, ModelEntry]
    manifest: Calibrated

    def chain(self, task: str) -> list[str]: ...


class Routed(Protocol):
    """One report on its way along the routes (the pipeline's RecordWork is one)."""

    report: Report
    counts: InferenceCounts
    rows: list[tuple[str, dict]]
    #: routing key -> the instances waiting for that entry, in plan order
    pending: dict[str, list[TaskInstance]]
    #: the report's instances in plan order
    planned: list[TaskInstance]


@dataclass
class RoutedReport:
    """A report and its instances, for callers without a record of their own (evaluation, doctor)."""

    report: Report
    counts: InferenceCounts = field(default_factory=InferenceCounts)
    rows: list[tuple[str, dict]] = field(default_factory=list)
    pending: dict[str, list[TaskInstance]] = field(default_factory=dict)
    planned: list[TaskInstance] = field(default_factory=list)


def route(routing: RoutingTable, work: Routed, instances: list[TaskInstance]) -> None:
    """Put ``instances`` on the first entry of their routes."""
    work.planned = list(instances)
    for instance in instances:
        work.pending.setdefault(routing.chain(instance.task)[0], []).append(instance)


def _waiting_upstream(routing: RoutingTable, batch: list[Routed], key: str) -> bool:
    """Some instance waits at another entry whose route goes on to ``key``."""
    for work in batch:
        for at, instances in work.pending.items():
            for instance in instances if at != key else ():
                chain = routing.chain(instance.task)
                if key in chain[chain.index(at) + 1:]:
                    return True
    return False


def answer_pending(routing: RoutingTable, batch: list[Routed], answerer: Callable[[str], Answerer], run_id: str,
                   cache: ResultCache | None, eager_only: bool = False) -> dict[str, int]:
    """Answer the batch's pending instances entry by entry (with ``eager_only`` only those of eager
    kinds, as a record is planned); rows join each report's ``rows``, instances an entry leaves open
    move to the next entry of their route; each row's raw confidence score is calibrated, and a value below
    its table's min_confidence withheld (radlite.calibration). Returns the answer tokens each
    entry generated."""
    tokens: dict[str, int] = {}
    calibration = load_calibration(routing.manifest.calibration)
    while True:
        keys = sorted(k for k in {k for w in batch for k, v in w.pending.items() if v}
                      if not (eager_only and not get_kind(routing.models[k].kind).eager)
                      and not _waiting_upstream(routing, batch, k))
        if not keys:
            return tokens
        for key in keys:
            todo = [w for w in batch if w.pending.get(key)]
            before = sum(w.counts.completion_tokens for w in todo)
            asked = []
            for work in todo:
                instances = work.pending.pop(key)
                passes_on = [_next(routing, i.task, key) is not None for i in instances]
                asked.append(Asked(work.report, instances, passes_on, work.counts))
            for work, answered in zip(todo, answerer(key).answer(asked, run_id, cache), strict=True):
                work.rows += calibrated_rows(answered.rows, calibration, routing.manifest.min_confidence)
                for instance in answered.open:
                    _wait(work, _next(routing, instance.task, key), instance)
            tokens[key] = tokens.get(key, 0) + sum(w.counts.completion_tokens for w in todo) - before


def _next(routing: RoutingTable, task: str, key: str) -> str | None:
    chain = routing.chain(task)
    position = chain.index(key)
    return chain[position + 1] if position + 1 < len(chain) else None


def _wait(work: Routed, key: str, instance: TaskInstance) -> None:
    """Queue ``instance`` at ``key`` in plan order (the order the report's prompts share their prefix in)."""
    queue = work.pending.setdefault(key, [])
    queue.append(instance)
    order = {id(i): n for n, i in enumerate(work.planned)}
    queue.sort(key=lambda i: order.get(id(i), len(order)))


def answer_instances(routing: RoutingTable, report: Report, instances: list[TaskInstance],
                     answerer: Callable[[str], Answerer], run_id: str,
                     cache: ResultCache | None = None) -> RoutedReport:
    """One report's instances answered along their routes: its rows and what they cost."""
    work = RoutedReport(report)
    route(routing, work, instances)
    answer_pending(routing, [work], answerer, run_id, cache)
    return work
