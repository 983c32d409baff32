"""One input record in, everything it gives out: its rows for every table, and its ledger row.

The whole graph is one linear chain (read -> process -> write bundle files), so every runner
(Direct, multi-process, Dask) runs each record exactly once and no branch can be dropped. The
ledger row says what became of the record and what it cost; the run's accounting is summed from
the ledger rows written, never from a runner's metrics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pyarrow as pa

from pipelines import progress
from pipelines.rows import REJECTS, REPORTS, reject_row, report_row
from pipelines.task_stage import TaskStage
from radlite.inference.cache import ResultCache
from radlite.inference.engine import LOAD_COUNTS, get_model
from radlite.inference.runner import InferenceCounts, rules_step, run_report_tasks
from radlite.io.records import IngestLimits, SourceRecord
from radlite.io.validate import validate_record
from radlite.rejects import Reject
from radlite.report import Report
from radlite.tasks import TASK_NAMES, TASKS, plan_tasks

LEDGER = "_ledger"
ACCEPTED_NEW, SKIPPED_UNCHANGED, REJECTED = "accepted_new", "skipped_unchanged", "rejected"
#: One row per input record: what became of it and what its model work cost (InferenceCounts).
LEDGER_SCHEMA = pa.schema([("source", pa.string()), ("sequence", pa.int64()), ("outcome", pa.string()),
                           ("reason", pa.string()),
                           # the worker process, and the model files it had loaded so far (observability)
                           ("worker", pa.int64()), ("model_loads", pa.int64())]
                          + [(name, pa.int64()) for name in InferenceCounts.model_fields])


class RecordProcessor:
    """Validates, plans, answers (rules, then models) one record at a time.

    Models are loaded on first use through ``load_model`` (default: once per process, shared by
    every processor in it) and the result cache is opened once per processor.
    """

    def __init__(self, limits: IngestLimits, done_reports: frozenset, done_rejects: frozenset,
                 stage: TaskStage | None, run_id: str, cache_path: str | None,
                 load_model: Callable = get_model):
        self.limits, self.done_reports, self.done_rejects = limits, done_reports, done_rejects
        self.stage, self.run_id, self.cache_path, self.load_model = stage, run_id, cache_path, load_model
        self._models: dict[str, object] = {}
        self._cache: ResultCache | None = None

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def rows(self, source: str, sequence: int, item: SourceRecord | Reject) -> Iterator[tuple[str, dict]]:
        """(table, row) for every row the record gives, its ledger row last."""
        progress.advance()
        counts = InferenceCounts()
        result = validate_record(item, self.limits) if isinstance(item, SourceRecord) else item
        if isinstance(result, Reject):
            outcome, reason = REJECTED, result.reason.value
            if result.reject_id not in self.done_rejects:
                yield REJECTS, reject_row(result, self.run_id)
        elif (result.report_id, result.text_sha256) in self.done_reports:
            outcome, reason = SKIPPED_UNCHANGED, None
        else:
            outcome, reason = ACCEPTED_NEW, None
            yield from self._report_rows(result, counts)
        yield LEDGER, {"source": source, "sequence": sequence, "outcome": outcome, "reason": reason,
                       "worker": os.getpid(), "model_loads": sum(LOAD_COUNTS.values()), **counts.model_dump()}

    def _report_rows(self, report: Report, counts: InferenceCounts) -> Iterator[tuple[str, dict]]:
        if self.stage is None:
            yield REPORTS, report_row(report, self.run_id, [], {})
            return
        routing = self.stage.routing
        plan = plan_tasks(report, self.stage.selected, self.stage.questions)
        instances = [i for i in plan.instances if i.task in routing.tasks]
        for task in {i.task for i in plan.instances} - {i.task for i in instances}:
            plan.skipped[task] = f"not in routing table {routing.name}"
        yield REPORTS, report_row(report, self.run_id, sorted({i.task for i in instances}, key=TASK_NAMES.index),
                                  plan.skipped)
        by_model: dict[str, list] = {}
        for instance in instances:
            rows, model_key = rules_step(routing, report, instance, self.run_id, counts)
            yield from ((TASKS[instance.task].table, row) for row in rows)
            if model_key:
                by_model.setdefault(model_key, []).append(instance)
        # One model's tasks back to back (adapters grouped): the report prefix is evaluated once per switch.
        for key in sorted(by_model):
            yield from run_report_tasks(self._model(key), report, by_model[key], self.run_id, self._cache_db(), counts)

    def _model(self, key: str):
        if key not in self._models:
            self._models[key] = self.load_model(self.stage.routing.models[key])
        return self._models[key]

    def _cache_db(self) -> ResultCache | None:
        if self._cache is None and self.cache_path:
            self._cache = ResultCache(self.cache_path)
        return self._cache

