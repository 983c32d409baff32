"""RADS categories as the report states them, all ten systems and their written variants.

The impression's last current statement wins: a report restates its final assessment there.
"""

from __future__ import annotations

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.rules.text import impression_span
from radlite.tasks.rads import RadsResult, stated_categories


def stated_rads(report: Report) -> tuple[RadsResult, Evidence] | None:
    """The report's own RADS assessment with its span; None when it states none."""
    found = stated_categories(report)
    if not found:
        return None
    impression = impression_span(report)
    in_impression = [f for f in found if impression and impression[0] <= f[0] < impression[1]]
    start, end, result = (in_impression or found)[-1]
    return result, Evidence(start, end)
