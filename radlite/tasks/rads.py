"""RADS assignment across ten systems, with a normalizer for the spellings seen in real reports."""

from __future__ import annotations

import re
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, Field

from radlite.columns import columns
from radlite.evidence import Evidence
from radlite.rads_formulas import computed_for
from radlite.report import Report
from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    literal_grammar,
)
from radlite.tasks.table import ExportedValue, ReviewView, TaskTable, at_site
from radlite.text.spans import finding_spans, is_historical, matches_in

NO_RADS = "No applicable RADS"

#: Canonical categories per system with an ordinal severity rank (higher = more suspicious/severe).
#: LI-RADS treatment-response categories share the rank scale of the diagnostic categories.
SEVERITY: dict[str, dict[str, int]] = {
    "BI-RADS": {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "4A": 4, "4B": 5, "4C": 6, "5": 7, "6": 8},
    "PI-RADS": {str(i): i for i in range(1, 6)},
    "LI-RADS": {"1": 1, "2": 2, "3": 3, "4": 4, "M": 5, "5": 5, "TIV": 6,
                "TR-nonviable": 1, "TR-equivocal": 3, "TR-viable": 5},
    "TI-RADS": {f"TR{i}": i for i in range(1, 6)},
    "Lung-RADS": {"0": 0, "1": 1, "2": 2, "3": 3, "4A": 4, "4B": 5, "4X": 6, "S": 0},
    "O-RADS": {str(i): i for i in range(0, 6)},
    "NI-RADS": {"0": 0, "1": 1, "2A": 2, "2B": 3, "2": 2, "3": 4, "4": 5},
    "CAD-RADS": {"0": 0, "1": 1, "2": 2, "3": 3, "4A": 4, "4B": 5, "5": 6, "N": 0},
    "VI-RADS": {str(i): i for i in range(1, 6)},
    "GB-RADS": {str(i): i for i in range(0, 6)},
}

_SEP = r"[\s:\-–]*(?:CATEGORY|CAT\.?|SCORE)?[\s:\-–]*"
#: Written forms of each system's categories (case-insensitive).
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((system, re.compile(p, re.I)) for system, p in (
    ("LI-RADS", r"\b(?:LI-?\s?RADS|LR)[\s\-]*TR[\s\-]*(?P<cat>NON-?VIABLE|EQUIVOCAL|VIABLE)\b"),
    ("LI-RADS", rf"\b(?:LI-?\s?RADS{_SEP}(?:LR-?)?|LR-)(?P<cat>TIV|TR|M|[1-5])\b"),
    ("BI-RADS", rf"\bBI-?\s?RADS{_SEP}(?P<cat>[0-6][ABC]?)\b"),
    ("PI-RADS", rf"\bPI-?\s?RADS{_SEP}(?P<cat>[1-5])\b"),
    ("TI-RADS", rf"\b(?:ACR[\s-]+)?TI-?\s?RADS{_SEP}(?:TR\s?)?(?P<cat>[1-5])\b"),
    ("TI-RADS", r"\bTR\s?(?P<cat>[1-5])\b"),
    ("Lung-RADS", rf"\bLUNG-?\s?RADS{_SEP}(?P<cat>[0-4][ABX]?|S)\b"),
    ("O-RADS", rf"\bO-?\s?RADS(?:\s*(?:US|MRI))?{_SEP}(?P<cat>[0-5])\b"),
    ("NI-RADS", rf"\bNI-?\s?RADS{_SEP}(?P<cat>[0-4][AB]?)\b"),
    ("CAD-RADS", rf"\bCAD-?\s?RADS{_SEP}(?P<cat>[0-5][AB]?|N)\b"),
    ("VI-RADS", rf"\bVI-?\s?RADS{_SEP}(?P<cat>[1-5])\b"),
    ("GB-RADS", rf"\bGB-?\s?RADS{_SEP}(?P<cat>[0-5])\b"),
))
_NONE = re.compile(r"\b(NO\s+(APPLICABLE\s+)?RADS|NOT\s+APPLICABLE|N/A|NONE)\b")


class RadsResult(BaseModel):
    """A RADS category: the report-level answer, or (``scope`` "site") one site, side or lesion of it.

    A model's answer fills the first four fields. The rules also fill ``site``, the category computed
    from the stated features (``computed_*``, ``rads_version``) or why none is (``computed_reason``),
    ``agreement`` of the stated and the computed category, ``prior_category`` (the category a stated
    revision replaces), and ``sites``: one result per site when the report assesses several."""

    system: str | None
    category: str | None
    label: str
    severity_rank: int | None
    scope: Literal["report", "site"] = "report"
    site: str | None = None
    computed_category: str | None = None
    rads_version: str | None = None
    computed_reason: str | None = None
    prior_category: str | None = None
    agreement: Literal["agree", "disagree", "stated_only", "computed_only"] | None = None
    computed_features: str | None = None
    computed_evidence_start: int | None = None
    computed_evidence_end: int | None = None
    sites: list[RadsResult] = Field(default_factory=list)


def _canonical_category(system: str, raw: str) -> str:
    raw = raw.upper().replace(" ", "")
    if system == "LI-RADS" and raw.replace("-", "") in ("NONVIABLE", "EQUIVOCAL", "VIABLE"):
        return "TR-" + {"NONVIABLE": "nonviable", "EQUIVOCAL": "equivocal", "VIABLE": "viable"}[raw.replace("-", "")]
    if system == "TI-RADS":
        return f"TR{raw}"
    return raw


def normalize_rads(text: str) -> RadsResult:
    """Canonical (system, category, label, rank) from any common spelling; ParseError if none."""
    upper = clean_output(text).upper()
    found: list[tuple[int, str, str]] = []
    for system, pattern in PATTERNS:
        m = pattern.search(upper)
        if m:
            found.append((m.start(), system, m.group("cat")))
    for _, system, written in sorted(found):
        if result := rads_result(system, written):
            return result
    if _NONE.search(upper):
        return no_rads()
    raise ParseError(f"no RADS category in {text[:80]!r}")


def rads_result(system: str, raw_category: str) -> RadsResult | None:
    """The canonical result for a system and a category as written; None if the category does not exist."""
    category = _canonical_category(system, raw_category)
    if category not in SEVERITY[system]:
        return None
    return RadsResult(system=system, category=category, label=f"{system} {category}",
                      severity_rank=SEVERITY[system][category])


def no_rads() -> RadsResult:
    return RadsResult(system=None, category=None, label=NO_RADS, severity_rank=None)


_BARE_CATEGORY = re.compile(r"\b(?:(?:final\s+)?assessment\s*[:\-]?\s*(?:category|cat\.?)?|category|cat\.?)\s*[:\-]?"
                            r"\s*(?P<cat>[0-6][abcx]?|s)\b", re.I)
_CONTEXTS = (("Lung-RADS", re.compile(r"lung-?\s?rads|lung cancer screening|low[- ]dose ct", re.I)),
             ("BI-RADS", re.compile(r"bi-?\s?rads|mammo|breast", re.I)))


def stated_categories(report: Report) -> list[tuple[int, int, RadsResult]]:
    """Every current, valid RADS statement in the finding sections: (start, end, result), in text order.

    Statements about the past ("a BI-RADS 4 lesion was biopsied previously") are left out; a bare
    "Category 4B" counts when the report names its system elsewhere (or is a mammogram / lung
    screening study); where statements overlap ("ACR TI-RADS TR4" and its "TR4") the longest is kept.
    """
    text, spans = report.text, finding_spans(report)
    found = []
    for system, pattern in PATTERNS:
        for m in matches_in(report, pattern, spans):
            result = rads_result(system, m.group("cat"))
            if result and not is_historical(text, m.start(), m.end()):
                found.append((m.start(), m.end(), result))
    context = next((system for system, pattern in _CONTEXTS if pattern.search(text)), None)
    if context:
        for m in matches_in(report, _BARE_CATEGORY, spans):
            result = rads_result(context, m.group("cat"))
            if result and not is_historical(text, m.start(), m.end()):
                found.append((m.start(), m.end(), result))
    found.sort(key=lambda f: (f[0], -f[1]))
    return [f for i, f in enumerate(found) if not any(s <= f[0] and f[1] <= e for s, e, _ in found[:i])]


def all_labels() -> list[str]:
    return [f"{s} {c}" for s, cats in SEVERITY.items() for c in cats] + [NO_RADS]


def _exported(row: dict) -> list[ExportedValue]:
    if not row["system"] or row["system"] == "none":
        return []
    return [ExportedValue("rads", row["system"], row["label"] or row["category"], None)]


RADS_TABLE = TaskTable(
    "rads",
    "RADS category per report, and per site when a report assesses several (rads_assignment).",
    columns(
        ("system", pa.string(), "RADS system, canonical: BI-RADS, LI-RADS, PI-RADS, TI-RADS, Lung-RADS, O-RADS, "
                                "NI-RADS, CAD-RADS, VI-RADS, GB-RADS; or none."),
        ("category", pa.string(), "Canonical category within the system, e.g. 4A, 5, TR-viable."),
        ("label", pa.string(), "Canonical label, e.g. 'BI-RADS 4A', or 'No applicable RADS'."),
        ("severity_rank", pa.int32(), "Ordinal severity within the system (higher is more suspicious)."),
        ("scope", pa.string(), "report: the report-level category (the highest the impression states, else the "
                               "computed one); site: one site, side or lesion of a report that assesses several."),
        ("site", pa.string(), "Site words the category is stated or computed for, as written in lower case "
                              "('primary site', 'right breast', 'segment 7', 'nodule 2 left lobe'); null when none."),
        ("computed_category", pa.string(), "Category computed from the stated features by the system's formula "
                                           "(rules rows; every system has one, docs/values.md); null when no "
                                           "formula applies or it leaves the category open (computed_reason says "
                                           "why)."),
        ("rads_version", pa.string(), "Version of the published definitions the system's formula follows "
                                      "('Lung-RADS v2022', 'LI-RADS v2018', 'PI-RADS v2.1', ...; docs/values.md); "
                                      "set whenever the formula applied, with or without a computed category."),
        ("computed_reason", pa.string(), "Why no category was computed where the system's formula applied: the "
                                         "system and the missing feature ('LI-RADS: arterial phase enhancement not "
                                         "stated'); null when a category was computed or no formula applied."),
        ("prior_category", pa.string(), "The category a stated revision replaces ('Lung-RADS 3 -> 4B', 'upgraded "
                                        "from 3 to 4B': 3), or the report body's category an ADDENDUM revises; "
                                        "null when the report states no revision."),
        ("agreement", pa.string(), "Stated vs computed category: agree, disagree, stated_only (no computed "
                                   "category) or computed_only (the report states none: category is the computed "
                                   "one); null on a model's rows."),
        ("computed_features", pa.string(), "The features the computed category comes from ('solid nodule, mean "
                                           "diameter 8 mm, baseline'), or why the formula leaves it open."),
        ("computed_evidence_start", pa.int32(), "Offset in reports.text of the words the features are read from."),
        ("computed_evidence_end", pa.int32(), "End offset (exclusive) of those words."),
        ("computed_evidence", pa.string(), "reports.text[computed_evidence_start:computed_evidence_end]."),
    ),
    evidence=True,
    review=ReviewView((), lambda r: at_site(r["system"] if r["system"] not in (None, "none") else "none", r),
                      lambda r: r["label"] or "No applicable RADS",
                      lambda r: "none" if r["system"] in (None, "none") else "assigned", optional_key=("site",)),
    export=_exported,
    fhir_titles={"rads": "{name} category"},
)


class RadsAssignment(Task):
    name = "rads_assignment"
    writes = RADS_TABLE
    rules = "radlite.rules.answers:rads_answer"
    nothing_stated = "radlite.rules.answers:no_rads_answer"
    curation_weight = 3.0
    metric_name = "accuracy"

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        longest = max(len(label) for label in all_labels())
        return Decoding(max_tokens=longest, grammar=literal_grammar(all_labels()))

    def parse(self, raw: str) -> RadsResult:
        return normalize_rads(raw)

    classification = True

    def score(self, prediction: RadsResult | None, reference: RadsResult) -> float:
        return float(prediction is not None and prediction.label == reference.label)

    def answer(self, result: RadsResult) -> str:
        return result.label

    def rows(self, result: RadsResult, instance: TaskInstance, report: Report) -> list[dict]:
        """The report-level row, then one row per site of ``result.sites`` (rules answers only)."""
        return [_row(result, report)] + [_row(site, report) for site in result.sites]

    def ground(self, result: RadsResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """The statement of the predicted category (the impression's last one), else the features a
        formula computes that category from; none for No RADS."""
        if result.system is None:
            return [None]
        same = [(s, e) for s, e, stated in stated_categories(report) if stated.label == result.label]
        if same:
            return [Evidence(*same[-1])]
        computed = [c.evidence for exam, lesions in computed_for(report) for c in ([exam] if exam else []) + lesions
                    if c.category is not None and f"{c.system} {c.category}" == result.label and c.evidence.grounded]
        return [computed[0] if computed else Evidence()]


def _row(result: RadsResult, report: Report) -> dict:
    """One rads row: the result's columns with the computed evidence quoted from the report."""
    row = result.model_dump(exclude={"sites"})
    start, end = result.computed_evidence_start, result.computed_evidence_end
    row["computed_evidence"] = report.text[start:end] if start is not None else None
    return row
