"""CAD-RADS 2.0 (SCCT/ACR/NASCI 2022): the patient's category on coronary CT angiography from the
maximal stenosis the report states, per vessel.

0: 0% (no plaque or stenosis); 1: 1-24% (or plaque without stenosis); 2: 25-49%; 3: 50-69%;
4A: 70-99% in one or two vessels; 4B: left main >= 50% or 3-vessel obstructive (>= 70%) disease;
5: 100% (total occlusion). Grades written in words follow CAD-RADS 2.0's terms (minimal, mild,
moderate, severe, occluded). Left open: a stated range that spans two categories ("40-60%"),
"non-obstructive" or "no significant" stenosis without a grade, and the N category (non-diagnostic
study) and modifiers (P, HRP, S, G, E, I), which are not computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radlite.evidence import Evidence
from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.mentions import absent, asserted, feature_spans
from radlite.report import Report
from radlite.text.sentences import sentence_bounds

VERSION = "CAD-RADS 2.0"
#: Vessel words -> territory (LM, LAD, LCx, RCA); branches count for the territory they belong to.
VESSELS: tuple[tuple[str, str], ...] = (
    ("LM", r"left main(?: coronary artery)?|\bLMCA\b|\bLM\b"),
    ("LAD", r"left anterior descending|\bLAD\b|\bdiagonal\b|\bD[12]\b"),
    ("LCx", r"circumflex|\bL?Cx\b|\bLCX\b|obtuse marginal|\bOM[12]?\b|\bramus(?: intermedius)?\b"),
    ("RCA", r"right coronary(?: artery)?|\bRCA\b|posterior descending|\bPDA\b|posterolateral|\bPLV?\b"),
)
_VESSEL = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in VESSELS), re.I)
_PERCENT = re.compile(r"(?P<lo>\d{1,3})\s*(?:%|percent)?\s*(?:-|–|to)\s*(?P<hi>\d{1,3})\s*(?:%|percent)|"
                      r"(?P<lt><|less than)\s*(?P<ltv>\d{1,3})\s*(?:%|percent)|"
                      r"(?P<one>\d{1,3})\s*(?:%|percent)", re.I)
#: CAD-RADS 2.0's stenosis terms -> the range of percent stenosis they name.
GRADE_WORDS: tuple[tuple[str, tuple[int, int]], ...] = (
    (r"total(?:ly)? occlu\w*|occlu(?:ded|sion)|100\s*%", (100, 100)),
    (r"severe(?:ly)?", (70, 99)),
    (r"moderate(?:ly)?", (50, 69)),
    (r"mild(?:ly)?", (25, 49)),
    (r"minimal(?:ly)?", (1, 24)),
)
_GRADE_WORD = re.compile(r"\b(?:" + "|".join(f"(?P<g{i}>{p})" for i, (p, _) in enumerate(GRADE_WORDS)) + r")\b"
                         r"(?=[^.;]{0,40}\b(?:stenos[ie]s|narrowing|luminal|occlu))|"
                         r"\btotal(?:ly)? occlu\w*|\bocclu(?:ded|sion)\b", re.I)
_STENOSIS = re.compile(r"\bstenos[ie]s\b|\bnarrowing\b|\bplaque\b|\bcoronary artery disease\b|\bCAD\b", re.I)
_PLAQUE = re.compile(r"\bplaques?\b", re.I)
_NORMAL = re.compile(r"\bnormal coronary arteries\b|\bcoronary arteries are normal\b", re.I)
_CONTEXT = re.compile(r"coronary|\bCCTA\b|CAD-?\s?RADS", re.I)


@dataclass(frozen=True)
class Stenosis:
    """One graded stenosis: its range in percent, the territory, and where it is written."""

    low: int
    high: int
    territory: str | None
    start: int
    end: int


def grade_category(low: int, high: int) -> str | None:
    """The CAD-RADS 2.0 category of a stenosis range (before the 4B rules); None when it spans two."""
    def one(p: int) -> str:
        return "0" if p <= 0 else "1" if p < 25 else "2" if p < 50 else "3" if p < 70 else "4A" if p < 100 else "5"
    return one(low) if one(low) == one(high) else None


def category(stenoses: list[Stenosis], no_plaque: bool, plaque: bool) -> tuple[str | None, str]:
    """(category, why) for the patient from every graded stenosis; None when left open."""
    if not stenoses:
        if plaque:
            return ("1", "plaque without stenosis") if no_plaque else (None, "plaque without a stated stenosis grade")
        return ("0", "no plaque or stenosis") if no_plaque else (None, "no stenosis grade stated")
    cats = [grade_category(s.low, s.high) for s in stenoses]
    if None in cats:
        return None, "a stated stenosis range spans two categories"
    if any(s.territory == "LM" and s.low >= 50 for s in stenoses):
        return ("5" if "5" in cats else "4B"), "left main stenosis >= 50%"
    obstructed = {s.territory for s in stenoses if s.low >= 70 and s.territory in ("LAD", "LCx", "RCA")}
    if "5" not in cats and len(obstructed) == 3:
        return "4B", "3-vessel obstructive disease (>= 70%)"
    order = ["0", "1", "2", "3", "4A", "5"]
    return max(cats, key=order.index), ""


def _territory(text: str, start: int, end: int) -> str | None:
    """The vessel nearest the grade in its sentence (grade and vessel are usually a few words apart)."""
    left, right = sentence_bounds(text, start, end)
    found = [(abs(m.start() - start), m.lastgroup) for m in _VESSEL.finditer(text, left, right)]
    return min(found)[1] if found else None


def read_stenoses(text: str, spans: list[tuple[int, int]]) -> list[Stenosis]:
    """Every asserted, graded stenosis (percent or CAD-RADS 2.0 grade word) in the spans."""
    out = []
    for start, end in spans:
        for m in _PERCENT.finditer(text, start, end):
            left, right = sentence_bounds(text, m.start(), m.end())
            if not _STENOSIS.search(text, left, right) or not asserted(text, m.start(), m.end()):
                continue
            if m.group("lo"):
                low, high = int(m.group("lo")), int(m.group("hi"))
            elif m.group("lt"):
                low, high = 1, int(m.group("ltv")) - 1
            else:
                low = high = int(m.group("one"))
            out.append(Stenosis(low, high, _territory(text, m.start(), m.end()), m.start(), m.end()))
        for m in _GRADE_WORD.finditer(text, start, end):
            if any(s.start <= m.start() < s.end or m.start() <= s.start < m.end() for s in out):
                continue
            if not asserted(text, m.start(), m.end()):
                continue
            low, high = next(r for i, (_, r) in enumerate(GRADE_WORDS) if m.group(f"g{i}")) if any(
                m.group(f"g{i}") for i in range(len(GRADE_WORDS))) else (100, 100)
            out.append(Stenosis(low, high, _territory(text, m.start(), m.end()), m.start(), m.end()))
    return out


#: "No significant stenosis" denies only a grade (it allows minimal or mild): it is not a 0.
_QUALIFIED = re.compile(r"significant|obstructive|flow[- ]limiting|high[- ]grade|critical|hemodynamic", re.I)


def _states(pattern: re.Pattern, text: str, spans: list[tuple[int, int]], present: bool) -> re.Match | None:
    """The first mention of ``pattern`` the report asserts (``present``) or denies outright (not ``present``)."""
    for start, end in spans:
        for m in pattern.finditer(text, start, end):
            if present and asserted(text, m.start(), m.end()):
                return m
            left = sentence_bounds(text, m.start(), m.end())[0]
            if not present and absent(text, m.start(), m.end()) and not _QUALIFIED.search(text, left, m.start()):
                return m
    return None


class CadRads(RadsFormula):
    system = "CAD-RADS"
    version = VERSION
    order = ("0", "1", "2", "3", "4A", "4B", "5")
    nothing_read = "no stenosis grade, plaque or normal coronary arteries stated"

    def applies(self, report: Report) -> bool:
        """CAD-RADS assesses coronary CT angiography."""
        exam = (report.examination or report.text[:200])
        return report.modality == "CT" and bool(_CONTEXT.search(exam))

    def lesions(self, report: Report) -> list[Computed]:
        """One category per patient (CAD-RADS grades the coronary tree as a whole)."""
        text, spans = report.text, feature_spans(report)
        stenoses = read_stenoses(text, spans)
        no_plaque = _states(_STENOSIS, text, spans, present=False) or _NORMAL.search(text)
        plaque = _states(_PLAQUE, text, spans, present=True)
        cat, why = category(stenoses, bool(no_plaque), bool(plaque))
        if stenoses:
            top = max(stenoses, key=lambda s: (s.low, s.high))
            where = f" ({top.territory})" if top.territory else ""
            grade = f"{top.low}%" if top.low == top.high else f"{top.low}-{top.high}%"
            features = f"maximal stenosis {grade}{where}" + (f"; {why}" if why else "")
            evidence = Evidence(*_trimmed(text, spans, top.start, top.end))
        else:
            features, anchor = why, plaque or no_plaque
            evidence = Evidence(*_trimmed(text, spans, anchor.start(), anchor.end())) if anchor else Evidence()
        if cat is None and not stenoses and not (plaque or no_plaque):
            return []
        return [Computed(self.system, self.version, cat, features, evidence, reason=why if cat is None else None)]


def _trimmed(text: str, spans: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """The sentence around text[start:end], inside its finding section, without leading whitespace."""
    left, right = sentence_bounds(text, start, end)
    left = max([left] + [s for s, e in spans if s <= start < e])
    while left < right and text[left] in " \n\t":
        left += 1
    return left, right
