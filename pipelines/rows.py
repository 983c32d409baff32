"""Pure conversions from library objects to table rows (dicts matching radlite.tables)."""

from __future__ import annotations

from radlite.rejects import Reject
from radlite.report import Report

REPORTS, REJECTS = "reports", "rejects"


def report_row(report: Report, run_id: str, tasks_planned: list[str], tasks_skipped: dict[str, str],
               input_position: int | None = None) -> dict:
    row = report.model_dump()
    row["input_position"] = input_position
    row["tasks_planned"] = tasks_planned
    row["tasks_skipped"] = [f"{task}: {reason}" for task, reason in tasks_skipped.items()]
    row["run_id"] = run_id
    return row


def reject_row(reject: Reject, run_id: str) -> dict:
    return {
        "reject_id": reject.reject_id,
        "source": reject.source,
        "locator": reject.locator,
        "reason": reject.reason.value,
        "message": reject.message,
        "run_id": run_id,
    }
