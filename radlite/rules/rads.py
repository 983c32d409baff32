"""RADS categories as the report states them, per site, and beside the category its features compute.

The report-level category is the highest the impression states in the system of its last statement
(the impression restates the final assessment; "primary site NI-RADS 2a, neck NI-RADS 1" is a 2a
report), or the highest stated anywhere when the impression states none. Each statement is read with
its site words ("right breast", "primary site", "segment 7", "nodule 2"); a report that assesses two
or more sites or lesions gets one site row for each, beside the report-level row. Where a formula of
radlite.rads_formulas applies, each row also carries the computed category, its version, and
the agreement of the stated and the computed category; a category the report does not state is
answered by the formula, and where the formula applies but cannot fix a category the row says why
(``computed_reason``).

A revision states one category as the successor of another ("Lung-RADS 3 -> 4B", "upgraded from
LR-3 to LR-4", "category revised to 4A"): the row takes the new category, with the old one as
``prior_category``. Statements in an ADDENDUM supersede the report's body: the report-level row is
the addendum's, with the body's category as ``prior_category`` when it differs.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.evidence import Evidence
from radlite.rads_formulas import Computed, computed_for
from radlite.report import Report
from radlite.tasks.rads import SEVERITY, RadsResult, no_rads, rads_result, stated_categories
from radlite.text.sections import addendum_start
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import LUNG_LOBE, SIDE, Site, statement_sites, with_site
from radlite.text.spans import finding_spans

#: Words naming the site, side or lesion a statement assesses; longer spellings first.
SITES = re.compile(
    r"\bprimary(?:\s+(?:tumou?r\s+)?site)?\b|\b(?:neck|nodal|lymph nodes?)\b|"
    rf"\b{SIDE}\s+(?:breast|(?:thyroid\s+)?lobe|kidney|ovary|adnexa|lung|{LUNG_LOBE})\b|"
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
    """Every current statement with the site words of its clause (radlite.text.sites.statement_sites), a
    revision ("Lung-RADS 3 -> 4B") read as one statement of its new category."""
    found = _revised(report, stated_categories(report))
    sites = statement_sites(report.text, [(start, end) for start, end, _ in found], SITES)
    return [Statement(result, start, end, site)
            for (start, end, result), site in zip(found, sites, strict=True)]


# --- Revisions: "X -> Y", "upgraded from X to Y", "revised to Y" ----------------------------------------

#: System names as written, canonical name first (the statement patterns need a category after the name).
SYSTEM_NAMES = tuple((system, re.compile(p, re.I)) for system, p in (
    ("LI-RADS", r"\bLI-?\s?RADS\b"), ("BI-RADS", r"\bBI-?\s?RADS\b"), ("PI-RADS", r"\bPI-?\s?RADS\b"),
    ("TI-RADS", r"\b(?:ACR\s+)?TI-?\s?RADS\b"), ("Lung-RADS", r"\bLUNG-?\s?RADS\b"),
    ("O-RADS", r"\bO-?\s?RADS(?:\s*US)?\b"), ("NI-RADS", r"\bNI-?\s?RADS\b"), ("CAD-RADS", r"\bCAD-?\s?RADS\b"),
    ("VI-RADS", r"\bVI-?\s?RADS\b"), ("GB-RADS", r"\bGB-?\s?RADS\b")))
_SYSTEM_WORDS = "|".join(p.pattern for _, p in SYSTEM_NAMES)
_NAMED = rf"(?:(?:{_SYSTEM_WORDS})\s*)?(?:(?:category|cat\.?)\s*)?"
_TOKEN = r"(?:LR-?|TR\s?)?(?:[0-6][abcx]?|TIV|M|S|N)\b(?!\s*(?:mm|cm|%|x\b))"
_VERB = r"(?:upgraded|downgraded|changed|revised|amended|updated|re-?categori[sz]ed)"
#: A revision's sentence speaks of a category (not of a count: "the nodules increased to 3").
_ABOUT_CATEGORY = re.compile(rf"{_SYSTEM_WORDS}|\bcategory\b|\bassessment\b|\bLR-|\bTR\s?\d", re.I)
REVISIONS = (
    re.compile(rf"(?:{_SYSTEM_WORDS})\s*(?:(?:category|cat\.?)\s*)?(?P<x>{_TOKEN})\s*(?:-+>|→|=>|⇒)\s*{_NAMED}"
               rf"(?P<y>{_TOKEN})", re.I),
    re.compile(rf"\b{_VERB}\s+(?:\w+\s+){{0,2}}?from\s+{_NAMED}(?P<x>{_TOKEN})\s+to\s+{_NAMED}(?P<y>{_TOKEN})", re.I),
    re.compile(rf"\b{_VERB}\s+to\s+{_NAMED}(?P<y>{_TOKEN})", re.I),
)


def _bare(token: str) -> str:
    """The category as rads_result reads it: "LR-4" -> "4", "TR 3" -> "3"."""
    return re.sub(r"^(?:LR-?|TR\s?)", "", token.strip(), flags=re.I)


def _system_of(text: str, start: int, end: int, found: list[tuple[int, int, RadsResult]]) -> str | None:
    """The system a revision is in: the one its sentence names ("Lung-RADS category upgraded from 3 to
    4A"), else the report's last statement's."""
    left, right = sentence_bounds(text, start, end, lines=True)
    named = [(m.start(), system) for system, pattern in SYSTEM_NAMES for m in pattern.finditer(text, left, right)]
    if named:
        return min(named, key=lambda n: abs(n[0] - start))[1]
    return found[-1][2].system if found else None


def _revised(report: Report, found: list[tuple[int, int, RadsResult]]) -> list[tuple[int, int, RadsResult]]:
    """``found`` with each revision in the finding sections replacing the statements it holds by one of
    its new category, whose ``prior_category`` is the old one: the one it names, or for "revised to Y"
    the statement before it in its sentence (None when there is none)."""
    text, revisions = report.text, []
    for pattern in REVISIONS:
        for m in (m for start, end in finding_spans(report) for m in pattern.finditer(text, start, end)):
            left, right = sentence_bounds(text, m.start(), m.end(), lines=True)
            if any(s <= m.start() < e for s, e, _ in revisions) or not _ABOUT_CATEGORY.search(text, left, right):
                continue
            system = _system_of(text, m.start(), m.end(), found)
            new = rads_result(system, _bare(m.group("y"))) if system else None
            start, old = m.start(), None
            if "x" in pattern.groupindex:
                old = rads_result(system, _bare(m.group("x"))) if system else None
                if old is None:
                    continue
            else:
                before = [f for f in found if left <= f[0] and f[1] <= m.start() and f[2].system == system]
                named = [n.start() for _, p in SYSTEM_NAMES for n in p.finditer(text, left, m.start())]
                start, old = (before[-1][0], before[-1][2]) if before else (max(named, default=start), None)
            if new is not None:
                revisions.append((start, m.end(), new.model_copy(update={"prior_category": old.category if old else None})))
    kept = [f for f in found if not any(s <= f[0] < e for s, e, _ in revisions)]
    return sorted(kept + revisions, key=lambda f: (f[0], -f[1]))


def _highest_of_last_system(statements: list[Statement]) -> Statement:
    system = statements[-1].result.system
    return max(reversed([s for s in statements if s.result.system == system]), key=lambda s: s.result.severity_rank)


def _report_level(report: Report, statements: list[Statement]) -> Statement | None:
    """The impression's highest statement in the system of its last one (else the whole report's); an
    addendum's statements supersede the body's, the body's category kept as ``prior_category``."""
    if not statements:
        return None
    addendum = addendum_start(report.text)
    body = [s for s in statements if addendum is None or s.start < addendum]
    late = [s for s in statements if s not in body]
    impressions = [span for span in finding_spans(report, ("impression",)) if addendum is None or span[0] < addendum]
    last = impressions[-1] if impressions else None
    top = _highest_of_last_system([s for s in body if last and last[0] <= s.start < last[1]] or body) if body else None
    if not late:
        return top
    revision = _highest_of_last_system(late)
    if top and top.result.system == revision.result.system and top.result.category != revision.result.category \
            and revision.result.prior_category is None:
        revision = revision._replace(result=revision.result.model_copy(update={"prior_category": top.result.category}))
    return revision


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
        "computed_reason": same_system.computed_reason if same_system else None,
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
    sided = {s.result.system for s in by_site.values()}
    units += [(None, c) for i, c in enumerate(lesions)
              if i not in used and c.category is not None and (c.site is not None or c.system not in sided)]
    return units


def assessed_rads(report: Report) -> tuple[RadsResult, list[Evidence]] | None:
    """The rules' answer: the report-level result (with ``sites`` when two or more are assessed) and
    the evidence of each row (report level first); None when the report states no category and no
    formula computes one."""
    statements = stated_statements(report)
    chosen = _report_level(report, statements)
    computed = computed_for(report)
    exams = [exam for exam, _ in computed]
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


def unassessed(report: Report) -> RadsResult:
    """"No applicable RADS" for a report that states no category and whose formulas compute none; where
    a formula applied, the row keeps its version and why it left the category open (``computed_reason``),
    a lesion's reason before "nothing described"."""
    exams = sorted((exam for exam, _ in computed_for(report) if exam.category is None),
                   key=lambda e: not e.evidence.grounded)
    if not exams:
        return no_rads()
    top = exams[0]
    return no_rads().model_copy(update={
        "rads_version": top.version, "computed_reason": top.computed_reason, "computed_features": top.features,
        "computed_evidence_start": top.evidence.start if top.evidence.grounded else None,
        "computed_evidence_end": top.evidence.end if top.evidence.grounded else None})
