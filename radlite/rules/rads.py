"""RADS categories as the report states them, per site, and beside the category its features compute.

The report-level category is the highest the impression states in the system of its last statement
(the impression restates the final assessment; "primary site NI-RADS 2a, neck NI-RADS 1" is a 2a
report), or the highest stated anywhere when the impression states none. Each statement is read with
its site words ("right breast", "primary site", "segment 7", "nodule 2"); a report that assesses two
or more sites or lesions gets one site row for each, beside the report-level row. Where a formula of
radlite.rads_formulas applies, each row also carries the computed category, its version, and
the agreement of the stated and the computed category; a category the report does not state is
answered by the formula.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.evidence import Evidence
from radlite.rads_formulas import Computed, computed_for
from radlite.report import Report
from radlite.sites import Site, statement_sites, with_site
from radlite.spans import impression_span
from radlite.tasks.rads import SEVERITY, RadsResult, stated_categories

#: Words naming the site, side or lesion a statement assesses; longer spellings first.
SITES = re.compile(
    r"\bprimary(?:\s+(?:tumou?r\s+)?site)?\b|\b(?:neck|nodal|lymph nodes?)\b|"
    r"\b(?:right|left)\s+(?:breast|(?:thyroid\s+)?lobe|kidney|ovary|adnexa|lung|(?:upper|middle|lower)\s+lobe)\b|"
    r"\b(?:right|left|bilateral)\b|\bsegments?\s*[1-8](?:\s*(?:/|and)\s*[1-8])?\b|"
    r"\b(?:observation|nodule|lesion|mass)\s*(?:#|no\.?)?\s*(?:\d+|[A-H])\b(?!\s*(?:mm|cm|%))|"
    r"\b(?:transition|peripheral)\s+zone\b|\bisthmus\b|\b(?:upper|mid|lower)\s+pole\b", re.I)


class Statement(NamedTuple):
    """A stated category with its site words (None: the statement names no site)."""

    result: RadsResult
    start: int
    end: int
    place: Site | None = None

    @property
    def site(self) -> str | None:
        """The site words ("primary site"), or None."""
        return self.place.words if self.place else None

    @property
    def evidence(self) -> Evidence:
        """The statement with its site words ("Primary site NI-RADS 2a")."""
        return with_site(self.start, self.end, self.place)


def stated_statements(report: Report) -> list[Statement]:
    """Every current statement with the site words of its clause (radlite.sites.statement_sites)."""
    found = stated_categories(report)
    sites = statement_sites(report.text, [(start, end) for start, end, _ in found], SITES)
    return [Statement(result, start, end, site)
            for (start, end, result), site in zip(found, sites, strict=True)]


def _report_level(report: Report, statements: list[Statement]) -> Statement | None:
    if not statements:
        return None
    impression = impression_span(report)
    chosen = [s for s in statements if impression and impression[0] <= s.start < impression[1]] or statements
    system = chosen[-1].result.system
    same = [s for s in chosen if s.result.system == system]
    return max(reversed(same), key=lambda s: s.result.severity_rank)


def stated_rads(report: Report) -> tuple[RadsResult, Evidence] | None:
    """The report's own RADS assessment with its span; None when it states none."""
    chosen = _report_level(report, stated_statements(report))
    return (chosen.result, Evidence(chosen.start, chosen.end)) if chosen else None


# --- Stated beside computed ---------------------------------------------------------------------------

def _agreement(stated: RadsResult | None, computed: Computed | None) -> str | None:
    if stated is not None and computed is not None and computed.category is not None:
        return "agree" if stated.category == computed.category else "disagree"
    if stated is not None:
        return "stated_only"
    return "computed_only" if computed is not None and computed.category is not None else None


def _combined(stated: Statement | None, computed: Computed | None, scope: str,
              site: str | None) -> tuple[RadsResult, Evidence] | None:
    """One row's result: the stated category, else the computed one, with the computed columns."""
    if stated is not None:
        base, evidence = stated.result, (stated.evidence if scope == "site" else Evidence(stated.start, stated.end))
    elif computed is not None and computed.category is not None:
        system, category = computed.system, computed.category
        base = RadsResult(system=system, category=category, label=f"{system} {category}",
                          severity_rank=SEVERITY[system][category])
        evidence = computed.evidence
    else:
        return None
    same_system = computed if computed is not None and computed.system == base.system else None
    return base.model_copy(update={
        "scope": scope, "site": site, "agreement": _agreement(stated.result if stated else None, same_system),
        "computed_category": same_system.category if same_system else None,
        "rads_version": same_system.version if same_system else None,
        "computed_features": same_system.features if same_system else None,
        "computed_evidence_start": same_system.evidence.start if same_system else None,
        "computed_evidence_end": same_system.evidence.end if same_system else None,
    }), evidence


def _matches(statement: Statement, lesion: Computed) -> bool:
    """A stated site and a computed lesion are the same when the statement lies in the lesion's
    description or one's site words hold all of the other's ("right lobe" and "nodule 1 right lobe")."""
    if statement.result.system != lesion.system:
        return False
    if lesion.evidence.grounded and lesion.evidence.start <= statement.start < lesion.evidence.end:
        return True
    if statement.site is None or lesion.site is None:
        return False
    stated, computed = set(statement.site.split()), set(lesion.site.split())
    return stated <= computed or computed <= stated


def _site_units(statements: list[Statement], lesions: list[Computed]) -> list[tuple[Statement | None, Computed | None]]:
    """Each assessed site once: stated sites (the last statement per system and site), matched to
    their computed lesion where one is, then the computed lesions no statement names."""
    by_site: dict[tuple, Statement] = {}
    for s in statements:
        if s.site is not None:
            by_site[(s.result.system, s.site)] = s
    units, used = [], set()
    for s in by_site.values():
        match = next((i for i, c in enumerate(lesions) if i not in used and _matches(s, c)), None)
        if match is not None:
            used.add(match)
        units.append((s, lesions[match] if match is not None else None))
    units += [(None, c) for i, c in enumerate(lesions) if i not in used and c.category is not None]
    return units


def assessed_rads(report: Report) -> tuple[RadsResult, list[Evidence]] | None:
    """The rules' answer: the report-level result (with ``sites`` when two or more are assessed) and
    the evidence of each row (report level first); None when the report states no category and no
    formula computes one."""
    statements = stated_statements(report)
    chosen = _report_level(report, statements)
    computed = computed_for(report)
    exams = [exam for exam, _ in computed if exam is not None]
    if chosen is not None:
        exam = next((e for e in exams if e.system == chosen.result.system), None)
    else:
        exam = next((e for e in exams if e.category is not None), None)
    lesions = [c for _, found in computed for c in found]
    units = _site_units(statements, lesions)
    single_site = units[0][0].site if len(units) == 1 and units[0][0] else (
        units[0][1].site if len(units) == 1 else None)
    site = chosen.site if chosen else exam.site if exam and exam.category is not None else None
    top = _combined(chosen, exam, "report", site or single_site)
    if top is None:
        return None
    result, evidence = top
    if len(units) < 2:
        return result, [evidence]
    sites = [r for r in (_combined(s, c, "site", s.site if s else c.site) for s, c in units) if r is not None]
    return result.model_copy(update={"sites": [r for r, _ in sites]}), [evidence] + [e for _, e in sites]
