"""Which committed reports an incremental run processes again because a model call failed on them.

A row whose model call failed (``model_error:``, ``context_overflow:``) is committed, so nothing is
lost, but its report must not count as done: the next run plans it again, until it succeeds, the
routing changes, or the failure is shown to be deterministic (the failure is a typed record,
radlite.kinds.ModelFailure, read from the row):

- ``context_overflow:`` is deterministic for a context size: it is planned again only when the
  task's model entry may now fit it (its kind says: a llama.cpp entry with a larger ``n_ctx`` than
  the one it overflowed), or is another model.
- ``model_error:`` may be transient: planned again until it has failed ``MAX_ATTEMPTS`` runs with the
  same model; a new model (another ``model_id``) starts over.

A report planned again is processed whole: its other task instances come from the result cache, and
the views keep one current row set per report and task, so nothing is duplicated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from radlite.kinds import CONTEXT_OVERFLOW, ERROR_PREFIXES, ModelFailure
from radlite.routing import RoutingTable

#: Runs in which an instance may fail with ``model_error:`` on one model before it is left alone.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class FailedInstance:
    """A current row whose model call failed, with how many committed runs failed it on that model."""

    report_id: str
    task: str
    model_id: str
    error: str
    attempts: int

    @property
    def failure(self) -> ModelFailure:
        return ModelFailure.of_row(self.error, self.model_id)


def model_failures(rows: pa.Table) -> pa.Table:
    """The rows (of a task table) whose model call failed."""
    if rows.num_rows == 0:
        return rows
    failed = pc.fill_null(pc.or_(*[pc.starts_with(rows["error"], p) for p in ERROR_PREFIXES]), False)
    return rows.filter(pc.and_(pc.invert(rows["valid"]), failed))


def failed_instances(current: pa.Table, history: pa.Table) -> list[FailedInstance]:
    """Failed current rows (report_id, task, model_id, valid, error columns), each with its number of
    failed runs in ``history`` (the same columns plus run_id)."""
    failed_runs = {(r["report_id"], r["task"], r["model_id"], r["run_id"]) for r in model_failures(history).to_pylist()}
    runs = Counter(key[:3] for key in failed_runs)
    return [FailedInstance(r["report_id"], r["task"], r["model_id"], r["error"], runs[(r["report_id"], r["task"],
                                                                                     r["model_id"])])
            for r in model_failures(current).to_pylist()]


def worth_retrying(failed: FailedInstance, routing: RoutingTable | None) -> bool:
    """Whether this run should plan ``failed`` again (see the module's docstring)."""
    if routing is None or failed.task not in routing.tasks:
        return False
    routed = routing.model_for(failed.task)
    if routed is None:  # the task now goes to the rules alone
        return True
    entry = routed[1]
    if entry.label() != failed.model_id:
        return True
    if failed.failure.code == CONTEXT_OVERFLOW:
        return entry.traits.may_fit(entry, failed.failure)
    return failed.attempts < MAX_ATTEMPTS
