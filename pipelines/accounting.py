"""Run accounting in one place: the counts and the summary the ``runs`` row is made from.

A count is declared once, as a field of ``RunCounts`` (records) or of the library's
``InferenceCounts`` (model work); it is summed from the ledger rows the run wrote (not from a
runner's metrics, which not every runner has), the summary carries it, and the ``runs`` row
(``radlite.store.StoreRun.runs_row``) stores every summary field that has a column of the same name.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from pydantic import computed_field, model_validator
from rich.table import Table

from pipelines.process import ACCEPTED_NEW, REJECTED, SKIPPED_UNCHANGED
from radlite.kinds import InferenceCounts
from radlite.withholding import LOW_CONFIDENCE, reason_code


class RunCounts(InferenceCounts):
    """Every count of a run, summed from the ledger rows its bundles wrote (one per input record,
    each counted once however often a runner retried it) and from its staged task rows."""

    read: int = 0
    accepted_new: int = 0
    skipped_unchanged: int = 0
    rejected_by_reason: dict[str, int] = {}
    #: table -> rows whose value was looked for in the report / of them found there.
    groundable_by_table: dict[str, int] = {}
    grounded_by_table: dict[str, int] = {}
    #: table -> rows whose value was checked against its own evidence / of them supported by it.
    checkable_by_table: dict[str, int] = {}
    supported_by_table: dict[str, int] = {}
    #: task table -> rows whose value is withheld (radlite.withholding).
    withheld_by_table: dict[str, int] = {}
    #: task -> reports it applied to that it did not run on: the routing table routes it nowhere.
    unrouted_by_task: dict[str, int] = {}
    #: task table -> rows withheld because their calibrated confidence is below the routing's min_confidence.
    low_confidence_by_table: dict[str, int] = {}
    #: task table -> mean calibrated confidence of its published values (radlite.confidence).
    mean_confidence_by_table: dict[str, float] = {}
    #: worker process -> model files it had loaded by its last record (each should load each once).
    model_loads_by_worker: dict[int, int] = {}

    @classmethod
    def from_staged(cls, ledger: pa.Table, grounded: dict[str, list[bool | None]],
                    supported: dict[str, list[bool | None]] | None = None,
                    withheld: dict[str, list[bool | None]] | None = None,
                    confidence: dict[str, list[tuple[float | None, str | None]]] | None = None) -> RunCounts:
        """Counts from the run's ledger (deduplicated by record) and its task rows' grounded, supported,
        withheld and (confidence, withheld_reason) columns."""
        rows = {(r["source"], r["sequence"]): r for r in ledger.to_pylist()}.values()
        outcomes = Counter(r["outcome"] for r in rows)
        sums = {name: sum(r[name] for r in rows) for name in InferenceCounts.model_fields}
        loads: dict[int, int] = {}
        for r in rows:
            loads[r["worker"]] = max(loads.get(r["worker"], 0), r["model_loads"])
        claims = {t: [g for g in values if g is not None] for t, values in grounded.items()}
        reasons = Counter(r["reason"] for r in rows if r["outcome"] == REJECTED)
        checks = {t: [v for v in values if v is not None] for t, values in (supported or {}).items()}
        unrouted = Counter(task for r in rows for task in r["unrouted"] or ())
        return cls(**sums, read=len(rows), accepted_new=outcomes[ACCEPTED_NEW],
                   skipped_unchanged=outcomes[SKIPPED_UNCHANGED], rejected_by_reason=dict(sorted(reasons.items())),
                   groundable_by_table={t: len(c) for t, c in claims.items() if c},
                   grounded_by_table={t: sum(c) for t, c in claims.items() if c},
                   checkable_by_table={t: len(c) for t, c in checks.items() if c},
                   supported_by_table={t: sum(c) for t, c in checks.items() if c}, model_loads_by_worker=loads,
                   withheld_by_table={t: sum(v is True for v in values) for t, values in (withheld or {}).items()
                                      if values},
                   unrouted_by_task=dict(unrouted),
                   low_confidence_by_table={t: n for t, values in (confidence or {}).items()
                                            if (n := sum(reason_code(r) == LOW_CONFIDENCE for _, r in values))},
                   mean_confidence_by_table={t: round(sum(c) / len(c), 4) for t, values in (confidence or {}).items()
                                             if (c := [v for v, r in values if v is not None and r is None])})


class RunSummary(RunCounts):
    """What a run did: its counters plus the totals and rates derived from them."""

    run_id: str
    out: str
    rows_by_table: dict[str, int]
    wall_seconds: float
    reject_rate_exceeded: bool = False
    #: Failed model instances of earlier runs that this run planned again (pipelines.retry).
    model_retried: int = 0
    model_error_rate_exceeded: bool = False
    #: The routing table's name, and for each task it routes nowhere why (its manifest's reason).
    routing: str | None = None
    unrouted_reasons: dict[str, str] = {}

    @model_validator(mode="after")
    def _every_record_accounted(self) -> RunSummary:
        """read = accepted + rejected: a record the graph dropped or wrote twice stops the commit."""
        if self.read != self.accepted + self.rejected:
            raise ValueError(f"record accounting broken: read={self.read} accepted={self.accepted} "
                             f"rejected={self.rejected}")
        return self

    @computed_field
    @property
    def accepted(self) -> int:
        return self.accepted_new + self.skipped_unchanged

    @computed_field
    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @computed_field
    @property
    def reports_per_second(self) -> float:
        return round(self.read / self.wall_seconds, 2) if self.wall_seconds > 0 else 0.0

    @computed_field
    @property
    def model_seconds(self) -> float:
        return self.model_ms / 1000

    @computed_field
    @property
    def grounded_share(self) -> dict[str, float]:
        """Per task table, the share of values whose evidence was found in the report."""
        return {t: round(self.grounded_by_table.get(t, 0) / n, 4) for t, n in self.groundable_by_table.items() if n}

    @computed_field
    @property
    def supported_share(self) -> dict[str, float]:
        """Per task table, the share of checked values whose own evidence asserts them (``supported``)."""
        return {t: round(self.supported_by_table.get(t, 0) / n, 4) for t, n in self.checkable_by_table.items() if n}


def render_summary(summary: RunSummary, console) -> None:
    """The end-of-run summary: accounting, rejects by reason, rows per table, speed."""
    console.print(f"[bold]run {summary.run_id}[/bold] -> {summary.out}")
    console.print(f"read {summary.read} = accepted {summary.accepted} "
                  f"(new {summary.accepted_new}, unchanged {summary.skipped_unchanged}) + rejected {summary.rejected}")
    if summary.rejected_by_reason:
        console.print("rejected by reason: " + ", ".join(f"{k}={v}" for k, v in summary.rejected_by_reason.items()))
    table = Table("table", "rows added")
    for name, rows in summary.rows_by_table.items():
        table.add_row(name, str(rows))
    console.print(table)
    if summary.cache_lookups:
        console.print(f"result cache: {summary.cache_hits}/{summary.cache_lookups} hits "
                      f"({100 * summary.cache_hits / summary.cache_lookups:.0f}%)")
    outputs = summary.outputs_valid + summary.outputs_invalid
    if outputs:
        model = (f"; {summary.model_seconds:.1f}s in the model, {summary.completion_tokens} tokens generated"
                 if summary.model_instances else "; no model ran")
        console.print(f"task outputs (rules and model): {summary.outputs_valid}/{outputs} valid{model}")
    if summary.groundable_by_table:
        console.print("grounded in the report text: " + ", ".join(
            f"{t} {summary.grounded_by_table.get(t, 0)}/{n} ({100 * summary.grounded_share.get(t, 0):.0f}%)"
            for t, n in summary.groundable_by_table.items()))
    if summary.checkable_by_table:
        console.print("supported by their own evidence: " + ", ".join(
            f"{t} {summary.supported_by_table.get(t, 0)}/{n} ({100 * summary.supported_share.get(t, 0):.0f}%)"
            for t, n in summary.checkable_by_table.items()))
    if any(summary.withheld_by_table.values()):
        console.print("withheld, not published: " + ", ".join(
            f"{t} {n}/{summary.rows_by_table.get(t, 0)}" for t, n in summary.withheld_by_table.items() if n))
    for task, reports in summary.unrouted_by_task.items():
        why = summary.unrouted_reasons.get(task) or "the table has no entry for it"
        console.print(f"[yellow]not run: {task} applied to {reports} report(s) but routing {summary.routing} routes "
                      f"it nowhere ({why}); no rows were written for it. Name a routing table that routes it "
                      "(e.g. --routing embedded-model) to run it.[/yellow]")
    if summary.mean_confidence_by_table:
        console.print("mean confidence of published values: " + ", ".join(
            f"{t} {c:.2f}" for t, c in summary.mean_confidence_by_table.items()))
    if summary.low_confidence_by_table:
        console.print("withheld for low confidence: " + ", ".join(
            f"{t} {n}" for t, n in summary.low_confidence_by_table.items()))
    if summary.model_errors or summary.model_retried:
        console.print(f"model calls failed: {summary.model_errors}/{summary.model_instances} task instances "
                      f"(planned again by the next run); {summary.model_retried} failed instances of earlier runs "
                      "retried")
    if summary.rules_answered or summary.cascaded:
        console.print(f"rules answered {summary.rules_answered} task instances; {summary.cascaded} passed on to "
                      "the model")
    console.print(f"wall {summary.wall_seconds:.1f}s, {summary.reports_per_second:.1f} records/s")
