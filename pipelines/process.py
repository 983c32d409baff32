"""One input record in, everything it gives out: its rows for every table, and its ledger row.

The whole graph is one linear chain (read -> process -> write bundle files), so every runner
(Direct, multi-process, Dask) runs each record exactly once and no branch can be dropped. The
ledger row says what became of the record and what it cost; the run's accounting is summed from
the ledger rows written, never from a runner's metrics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from pipelines import progress
from pipelines.rows import REJECTS, REPORTS, reject_row, report_row
from pipelines.task_stage import TaskStage
from radlite.io.hl7 import outranked
from radlite.io.records import IngestLimits, SourceRecord
from radlite.io.validate import validate_record
from radlite.kinds import Answerer, InferenceCounts, ResultCache, crashlog, get_kind, model_loads
from radlite.kinds.cascade import answer_pending, route
from radlite.rejects import Reject, RejectReason
from radlite.report import Report
from radlite.tasks import TASK_NAMES, TaskInstance, plan_tasks

LEDGER = "_ledger"
ACCEPTED_NEW, SKIPPED_UNCHANGED, REJECTED = "accepted_new", "skipped_unchanged", "rejected"
#: One row per input record: what became of it and what its model work cost (InferenceCounts).
LEDGER_SCHEMA = pa.schema([("source", pa.string()), ("sequence", pa.int64()), ("outcome", pa.string()),
                           ("reason", pa.string()),
                           # the worker process, and the model files it had loaded so far (observability)
                           ("worker", pa.int64()), ("model_loads", pa.int64()),
                           # tasks planned on the record that the routing table routes nowhere (not run)
                           ("unrouted", pa.list_(pa.string()))]
                          + [(name, pa.int64()) for name in InferenceCounts.model_fields])


@dataclass
class RecordWork:
    """One input record between the graph's steps: its rows so far, the model calls it still needs
    (model key -> task instances), and what became of it, for its ledger row."""

    source: str
    sequence: int
    outcome: str
    reason: str | None = None
    rows: list[tuple[str, dict]] = field(default_factory=list)
    counts: InferenceCounts = field(default_factory=InferenceCounts)
    report: Report | None = None
    pending: dict[str, list[TaskInstance]] = field(default_factory=dict)
    planned: list[TaskInstance] = field(default_factory=list)
    #: Tasks planned on the record that the routing table routes nowhere: skipped, counted in the summary.
    unrouted: list[str] = field(default_factory=list)


class RecordProcessor:
    """Validates, plans, answers (rules, then models) records; ``rows`` does one record start to end,
    the graph runs ``prepare`` -> ``answer`` (a batch of records, under RunInference) -> ``finish``.

    Models are loaded on first use by their kind (a llama.cpp model once per process, shared by every
    processor in it; ``load_model`` replaces the kind's loader); the result cache is opened once per
    processor.
    """

    def __init__(self, limits: IngestLimits, done_reports: frozenset, done_rejects: frozenset,
                 stage: TaskStage | None, run_id: str, cache_path: str | None,
                 load_model: Callable | None = None, crash_dir: str | None = None,
                 committed_status: dict[str, str] | None = None):
        self.limits, self.done_reports, self.done_rejects = limits, done_reports, done_rejects
        #: report_id -> result_status of the committed version, for reports whose source gives one (HL7)
        self.committed_status = committed_status or {}
        #: where a process of this run logs a fatal signal when no supervisor gave it a place
        #: (a Dask worker on another host): radlite.kinds.crashlog
        self.crash_dir = crash_dir
        self.stage, self.run_id, self.cache_path, self.load_model = stage, run_id, cache_path, load_model
        self._models: dict[str, Answerer] = {}
        self._cache: ResultCache | None = None

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def rows(self, source: str, sequence: int, item: SourceRecord | Reject) -> Iterator[tuple[str, dict]]:
        """(table, row) for every row the record gives, its ledger row last."""
        work = self.prepare(source, sequence, item)
        self.answer([work])
        yield from self.finish(work)

    def prepare(self, source: str, sequence: int, item: SourceRecord | Reject) -> RecordWork:
        """Validate and plan the record; the rules answer what they can, the rest waits for a model."""
        progress.advance()
        result = validate_record(item, self.limits) if isinstance(item, SourceRecord) else item
        if isinstance(result, Report) and outranked(result.result_status,
                                                    self.committed_status.get(result.report_id)):
            result = Reject(source=source, locator=result.locator, reason=RejectReason.HL7_SUPERSEDED,
                            message=f"status {result.result_status}; an earlier run committed this result as "
                                    f"{self.committed_status[result.report_id]}, a later stage")
        if isinstance(result, Reject):
            work = RecordWork(source, sequence, REJECTED, result.reason.value)
            if result.reject_id not in self.done_rejects:
                work.rows.append((REJECTS, reject_row(result, self.run_id)))
        elif (result.report_id, result.text_sha256) in self.done_reports:
            work = RecordWork(source, sequence, SKIPPED_UNCHANGED)
        else:
            work = RecordWork(source, sequence, ACCEPTED_NEW, report=result)
            self.plan(work)
        return work

    def prepare_batch(self, records: list[tuple[str, int, SourceRecord | Reject]]) -> list[RecordWork]:
        return [self.prepare(*record) for record in records]

    def plan(self, work: RecordWork) -> None:
        """The report row, and the rows of eager kinds (the rules); what needs a model waits in
        ``work.pending`` (radlite.kinds.cascade)."""
        report = work.report
        if self.stage is None:
            work.rows.append((REPORTS, report_row(report, self.run_id, [], {}, work.sequence)))
            return
        routing = self.stage.routing
        plan = plan_tasks(report, self.stage.selected, self.stage.questions)
        instances = [i for i in plan.instances if i.task in routing.tasks]
        work.unrouted = sorted({i.task for i in plan.instances} - {i.task for i in instances}, key=TASK_NAMES.index)
        for task in work.unrouted:
            plan.skipped[task] = f"not in routing table {routing.name}"
        work.rows.append((REPORTS, report_row(report, self.run_id,
                                              sorted({i.task for i in instances}, key=TASK_NAMES.index), plan.skipped,
                                              work.sequence)))
        route(routing, work, instances)
        answer_pending(routing, [work], self._answerer, self.run_id, None, eager_only=True)

    def answer(self, batch: list[RecordWork]) -> dict[str, int]:
        """The model calls of a batch of records, one model at a time (adapters grouped, so each
        report's prefix is evaluated once per model), the records' reports decoded together.
        Returns the answer tokens each model (routing key) generated, for the bench's roofline."""
        if self.stage is None:
            return {}
        return answer_pending(self.stage.routing, batch, self._answerer, self.run_id, self._cache_db())

    def finish(self, work: RecordWork) -> Iterator[tuple[str, dict]]:
        """The record's rows, its ledger row last."""
        yield from work.rows
        yield LEDGER, {"source": work.source, "sequence": work.sequence, "outcome": work.outcome,
                       "reason": work.reason, "worker": os.getpid(), "model_loads": model_loads(),
                       "unrouted": work.unrouted,
                       **work.counts.model_dump()}

    def _answerer(self, key: str) -> Answerer:
        """The routing entry ``key`` loaded by its kind, once per processor."""
        if key not in self._models:
            entry = self.stage.routing.models[key]
            kind = get_kind(entry.kind)
            if not kind.eager:  # a model loads native code: its fatal signals are logged from now on
                crashlog.install(self.crash_dir)
            self._models[key] = kind.load(entry, self.load_model)
        return self._models[key]

    def _cache_db(self) -> ResultCache | None:
        if self._cache is None and self.cache_path:
            self._cache = ResultCache(self.cache_path)
        return self._cache
