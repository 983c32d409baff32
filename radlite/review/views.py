"""What a reviewer sees of one row of a task table: one small view per reviewable table, one registration.

A view names the row's *label* (what the value is about: a finding, a RADS system, an entity label), its
*value* as shown, and its *status*: a claim (``positive``, ``uncertain``, ``assigned``) whose precision
is measured, or no claim (``negative``, ``not_mentioned``, ``none``) whose miss rate is measured. A row that
only says a task ran and found nothing (an entities or temporal_changes row with no entity / no change) is
a no-claim: its verdict says whether the report holds something the table missed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from radlite.hashing import stable_id

#: Statuses that assert something in the report: a verdict on them measures precision.
CLAIMS = ("positive", "uncertain", "assigned")
#: Statuses that assert nothing was found: a verdict on them measures the miss rate.
NO_CLAIMS = ("negative", "not_mentioned", "none")


@dataclass(frozen=True)
class ReviewView:
    """How the rows of one table are shown and counted."""

    table: str
    #: Columns that tell one report's rows of this table apart (besides task).
    key: tuple[str, ...]
    label: Callable[[dict], str]
    value: Callable[[dict], str]
    status: Callable[[dict], str]
    #: Columns that tell rows apart only where they are set (a site row beside its report's row); a
    #: row without them keeps the id it had before they existed.
    optional_key: tuple[str, ...] = ()


VIEWS: dict[str, ReviewView] = {}


def register(view: ReviewView) -> None:
    VIEWS[view.table] = view


def is_claim(status: str) -> bool:
    return status in CLAIMS


def item_id(view: ReviewView, row: dict) -> str:
    """Stable id of a reviewable value: the same row of a later run with the same key has the same id."""
    optional = [f"{k}={row[k]}" for k in view.optional_key if row.get(k) is not None]
    return stable_id(view.table, row["report_id"], row["task"], *(str(row[k]) for k in view.key), *optional)


def _found_nothing(row: dict, *columns: str) -> bool:
    """The row a task writes when it found nothing: every one of ``columns`` empty."""
    return not any(row.get(c) for c in columns)


def _entity_view() -> ReviewView:
    def empty(r):
        return _found_nothing(r, "label", "text")

    return ReviewView("entities", ("entity_index",), lambda r: "none" if empty(r) else r["label"] or "",
                      lambda r: "No entity found" if empty(r) else r["text"] or "",
                      lambda r: "none" if empty(r) else "positive")


def _temporal_view() -> ReviewView:
    def empty(r):
        return _found_nothing(r, "finding", "change")

    return ReviewView("temporal_changes", ("finding", "change"), lambda r: "none" if empty(r) else r["change"] or "",
                      lambda r: "No change since the prior found" if empty(r) else f"{r['finding']}: {r['change']}",
                      lambda r: "none" if empty(r) else "positive")


def _at_site(label: str, row: dict) -> str:
    """A site row's label names its site ("BI-RADS (left breast)")."""
    return f"{label} ({row['site']})" if row.get("site") else label


register(ReviewView("abnormalities", ("finding",), lambda r: r["finding"], lambda r: r["status"],
                    lambda r: r["status"]))
register(ReviewView("rads", (), lambda r: _at_site(r["system"] if r["system"] not in (None, "none") else "none", r),
                    lambda r: r["label"] or "No applicable RADS",
                    lambda r: "none" if r["system"] in (None, "none") else "assigned", optional_key=("site",)))
register(ReviewView("staging", (), lambda r: _at_site(r["task"], r), lambda r: r["n_stage"] or r["m_stage"] or "",
                    lambda r: "positive" if (r["n_stage"] or r["m_stage"]) else "not_mentioned",
                    optional_key=("site",)))
register(_entity_view())
register(_temporal_view())
register(ReviewView("qa_answers", ("question_id",), lambda r: r["question_id"], lambda r: r["answer"] or "",
                    lambda r: "positive" if r["answer"] else "not_mentioned"))
