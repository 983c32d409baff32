"""RADS assignment across ten systems, with a normalizer for the spellings seen in real reports."""

from __future__ import annotations

import re

from pydantic import BaseModel

from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    literal_grammar,
)

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

_SEP = r"[\s:\-–]*(?:CATEGORY|CAT\.?)?[\s:\-–]*"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((system, re.compile(p)) for system, p in (
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
    system: str | None
    category: str | None
    label: str
    severity_rank: int | None


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
    for system, pattern in _PATTERNS:
        m = pattern.search(upper)
        if m:
            found.append((m.start(), system, _canonical_category(system, m.group("cat"))))
    for _, system, category in sorted(found):
        if category in SEVERITY[system]:
            return RadsResult(system=system, category=category, label=f"{system} {category}",
                              severity_rank=SEVERITY[system][category])
    if _NONE.search(upper):
        return RadsResult(system=None, category=None, label=NO_RADS, severity_rank=None)
    raise ParseError(f"no RADS category in {text[:80]!r}")


def all_labels() -> list[str]:
    return [f"{s} {c}" for s, cats in SEVERITY.items() for c in cats] + [NO_RADS]


class RadsAssignment(Task):
    name = "rads_assignment"
    table = "rads"
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
