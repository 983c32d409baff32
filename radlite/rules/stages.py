"""N and M stages per primary, stated and computed side by side: a report that stages two primaries
keeps both.

"Right upper lobe primary: cT2a N1 M0. Left breast primary: T1c N0 M0" gets, for N and for M, one
site row per primary (its site words and whole TNM statement as evidence) beside the report-level
row: the highest N stated, M1 when any primary states M1 (the first statement of that stage as its
evidence). A report that stages one primary, or names no site, keeps the single report-level row:
the first stage it states.

Beside each stated stage stands the one its findings compute (radlite.rules.n_category by primary
site, radlite.rules.stage_findings for M and for a primary with no N definition here), and their
``agreement``, as for RADS. A stated stage wins; a report that states none is answered by the
computed stage (``computed_only``), N+ included.
"""

from __future__ import annotations

from typing import NamedTuple

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.rules import n_category, stage_findings
from radlite.rules.primary_sites import site_of_words
from radlite.tasks.staging import StageResult
from radlite.text.tnm import StatedStage, stated_stages


class Computed(NamedTuple):
    """A stage computed from the findings: N0-N3, N+, M0, M1 or None (open), why, and from which words."""

    value: str | None
    reason: str
    evidence: Evidence
    version: str | None = None


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


def computed_n(report: Report) -> Computed:
    """The report's N from its node facts: the primary site's category (radlite.rules.n_category), open
    when that site's facts leave it open; N0 / N+ only where no site definition applies
    (radlite.rules.stage_findings)."""
    by_site = n_category.report_n(report)
    if by_site.value is not None or by_site.version is not None:  # a site definition applied
        return Computed(by_site.value, by_site.reason, by_site.evidence, by_site.version)
    coarse = stage_findings.computed_n(report)
    if coarse.value is None:
        return Computed(None, f"{by_site.reason}; {coarse.reason}", Evidence())
    return Computed(coarse.value, f"{by_site.reason}; {coarse.reason}", coarse.evidence)


def _computed_site_n(report: Report, words: str, staged: list[StatedStage]) -> Computed:
    """The N of one staged primary from the nodes of its own regional chains; open when another staged
    primary has the same site (its nodes cannot be told apart)."""
    primary = site_of_words(words, report.text)
    same_site = [s for s in staged if s.site and (p := site_of_words(s.site.words, report.text))
                 and primary and p.site == primary.site]
    if primary is not None and len(same_site) > 1:
        return Computed(None, f"{primary.site}: two staged primaries of this site; their nodes cannot be told "
                              "apart", Evidence())
    found = n_category.site_n(report, words)
    return Computed(found.value, found.reason, found.evidence, found.version if found.value else None)


def computed_m(report: Report) -> Computed:
    """The report's M0 / M1 from what it states about distant metastasis (radlite.rules.stage_findings)."""
    found = stage_findings.computed_m(report)
    return Computed(found.value, found.reason, found.evidence)


def agreement(stated: str | None, computed: str | None) -> str | None:
    """agree, disagree, stated_only, computed_only (None: neither): a computed N+ agrees with a stated
    N1-N3 (both say the regional nodes are involved)."""
    if stated is not None and computed is not None:
        same = stated == computed or (computed == "N+" and stated in ("N1", "N2", "N3"))
        return "agree" if same else "disagree"
    if stated is not None:
        return "stated_only"
    return "computed_only" if computed is not None else None


def _result(letter: str, stated: StatedStage | None, computed: Computed, **fields) -> StageResult:
    """One row's result: the stated stage (else the computed one) with the computed columns beside it."""
    value = stated.stage if stated is not None else computed.value
    return StageResult(**{f"{letter.lower()}_stage": value}, **fields,
                       stage_prefix=stated.prefix if stated is not None else None,
                       computed_stage=computed.value, tnm_version=computed.version if computed.value else None,
                       agreement=agreement(stated.stage if stated is not None else None, computed.value),
                       computed_reason=computed.reason,
                       computed_evidence_start=computed.evidence.start if computed.evidence.grounded else None,
                       computed_evidence_end=computed.evidence.end if computed.evidence.grounded else None)


def _computed(report: Report, letter: str) -> Computed:
    return computed_n(report) if letter == "N" else computed_m(report)


def stated_per_primary(report: Report, letter: str) -> tuple[StageResult, list[Evidence]] | None:
    """The stated N (``letter`` "N") or M: the report-level result (with ``sites`` when two or more
    primaries are staged), each beside its computed stage, and the evidence of each row, report level
    first; None when the report states no such stage."""
    stated = stated_stages(report, letter)
    if not stated:
        return None
    staged_primaries = primaries(stated)
    if len(staged_primaries) < 2:
        return _result(letter, stated[0], _computed(report, letter)), [stated[0].evidence]
    candidates = sorted(staged_primaries + [s for s in stated if s.site is None], key=lambda s: s.evidence.start)
    top = max(candidates, key=lambda s: int(s.stage[1]))

    def site_computed(s: StatedStage) -> Computed:
        if letter == "M":
            return Computed(None, "M is computed for the report, not per primary", Evidence())
        return _computed_site_n(report, s.site.words, staged_primaries)

    top_computed = site_computed(top) if top.site is not None else _computed(report, letter)
    sites = [_result(letter, s, site_computed(s), scope="site", site=s.site.words) for s in staged_primaries]
    return (_result(letter, top, top_computed).model_copy(update={"sites": sites}),
            [top.evidence] + [s.site_evidence for s in staged_primaries])


def staged(report: Report, letter: str) -> tuple[StageResult, list[Evidence]] | None:
    """The rules' answer for N or M: the stated stages (stated_per_primary); else the computed stage
    (``computed_only``); None when the report states none and its findings compute none."""
    stated = stated_per_primary(report, letter)
    if stated is not None:
        return stated
    computed = _computed(report, letter)
    if computed.value is None:
        return None
    return _result(letter, None, computed), [computed.evidence]
