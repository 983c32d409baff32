"""What a reviewer sees of one row of a task table: the view its task declares (radlite.tasks.table.ReviewView).

A view names the row's *label* (what the value is about: a finding, a RADS system, an entity label), its
*value* as shown, and its *status*: a claim (``positive``, ``uncertain``, ``assigned``) whose precision
is measured, or no claim (``negative``, ``not_mentioned``, ``none``) whose miss rate is measured. A row that
only says a task ran and found nothing (an entities or temporal_changes row with no entity / no change) is
a no-claim: its verdict says whether the report holds something the table missed.
"""

from __future__ import annotations

from collections.abc import Mapping

from radlite.hashing import stable_id
from radlite.tasks import task_tables
from radlite.tasks.table import DerivedMapping, ReviewView

#: Statuses that assert something in the report: a verdict on them measures precision.
CLAIMS = ("positive", "uncertain", "assigned")
#: Statuses that assert nothing was found: a verdict on them measures the miss rate.
NO_CLAIMS = ("negative", "not_mentioned", "none")


#: table -> its ReviewView, for every task table that declares one (radlite.tasks.table.TaskTable.review).
VIEWS: Mapping[str, ReviewView] = DerivedMapping(
    lambda: {name: table.review for name, table in task_tables().items() if table.review is not None})


def is_claim(status: str) -> bool:
    return status in CLAIMS


def item_id(view: ReviewView, row: dict) -> str:
    """Stable id of a reviewable value: the same row of a later run with the same key has the same id."""
    optional = [f"{k}={row[k]}" for k in view.optional_key if row.get(k) is not None]
    return stable_id(view.table, row["report_id"], row["task"], *(str(row[k]) for k in view.key), *optional)
