"""Stated N and M stages per primary: a report that stages two primaries keeps both.

"Right upper lobe primary: cT2a N1 M0. Left breast primary: T1c N0 M0" gets, for N and for M, one
site row per primary (its site words and whole TNM statement as evidence) beside the report-level
row: the highest N stated, M1 when any primary states M1 (the first statement of that stage as its
evidence). A report that stages one primary, or names no site, keeps the single report-level row:
the first stage it states.
"""

from __future__ import annotations

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.tasks.staging import StageResult
from radlite.tnm import StatedStage, stated_stages


def primaries(stated: list[StatedStage]) -> list[StatedStage]:
    """Each staged primary once, in the order first named: statements whose site words hold all of the
    other's ("primary 1" and "primary 1 sigmoid colon") are one primary, as its last statement says
    (the impression restates the findings). Statements that name no site are no primary."""
    found: list[tuple[set[str], StatedStage]] = []
    for s in stated:
        if s.site is None:
            continue
        words = set(s.site.words.split())
        same = next((i for i, (known, _) in enumerate(found) if known <= words or words <= known), None)
        if same is None:
            found.append((words, s))
        else:
            found[same] = (found[same][0], s)
    return [s for _, s in found]


def stated_per_primary(report: Report, letter: str) -> tuple[StageResult, list[Evidence]] | None:
    """The rules' answer for N (``letter`` "N") or M: the report-level result (with ``sites`` when two
    or more primaries are staged) and the evidence of each row, report level first; None when the
    report states no such stage."""
    stated = stated_stages(report, letter)
    if not stated:
        return None
    field = f"{letter.lower()}_stage"
    staged = primaries(stated)
    if len(staged) < 2:
        return StageResult(**{field: stated[0].stage}), [stated[0].evidence]
    candidates = sorted(staged + [s for s in stated if s.site is None], key=lambda s: s.evidence.start)
    top = max(candidates, key=lambda s: int(s.stage[1]))
    sites = [StageResult(**{field: s.stage}, scope="site", site=s.site.words) for s in staged]
    return StageResult(**{field: top.stage}, sites=sites), [top.evidence] + [s.site_evidence for s in staged]
