"""PI-RADS v2.1 (ACR/ESUR/AdMeTech 2019): the assessment category of each prostate MRI lesion from the
score of its zone's dominant sequence.

Peripheral zone: the DWI score, except DWI 3 with positive DCE, which is 4. Transition zone: the T2W
score, except T2W 2 with DWI >= 4, which is 3, and T2W 3 with DWI 5, which is 4. Sequence scores are
read where the report writes them ("DWI 4", "T2W score 3", "DCE positive") or where the v2.1 lexicon
fixes them: a typical, completely encapsulated (BPH) nodule is T2W 1; a focal lesion markedly
hypointense on ADC and markedly hyperintense on high b-value is DWI 4 below 1.5 cm and 5 from 1.5 cm.
An exam whose report states no suspicious lesion, and at most typical transition-zone nodules, is
PI-RADS 1. Left open, with the reason: a lesion of unstated zone, a missing dominant score, and a
missing DCE or DWI result where it would change the category.
"""

from __future__ import annotations

import re

from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.measure import sizes
from radlite.rads_formulas.mentions import absent, feature_spans, first_asserted, lesion_blocks, trimmed
from radlite.report import Report
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import SIDE, site_words

VERSION = "PI-RADS v2.1"


def peripheral(dwi: int, dce_positive: bool) -> str:
    """Peripheral zone: DWI dominant, DCE upgrades 3 to 4."""
    return "4" if dwi == 3 and dce_positive else str(dwi)


def transition(t2w: int, dwi: int) -> str:
    """Transition zone: T2W dominant; DWI >= 4 upgrades 2 to 3, DWI 5 upgrades 3 to 4."""
    if t2w == 2 and dwi >= 4:
        return "3"
    if t2w == 3 and dwi == 5:
        return "4"
    return str(t2w)


def category(zone: str | None, t2w: int | None, dwi: int | None, dce: bool | None) -> tuple[str | None, str]:
    """(category, why) of one lesion; None with what is missing when the stated scores do not fix it."""
    if zone is None:
        return None, "zone (peripheral or transition) not stated"
    if zone == "peripheral":
        if dwi is None:
            return None, "DWI score not stated (the peripheral zone's dominant sequence)"
        if dce is None and dwi == 3:
            return None, "DCE not stated (it decides 3 or 4 in the peripheral zone)"
        return peripheral(dwi, bool(dce)), ""
    if t2w is None:
        return None, "T2W score not stated (the transition zone's dominant sequence)"
    if dwi is None and t2w in (2, 3):
        return None, f"DWI score not stated (it decides a transition-zone T2W {t2w})"
    return transition(t2w, dwi or 1), ""


# --- Reading the scores -----------------------------------------------------------------------------

_CONTEXT = re.compile(r"prostat", re.I)
_LESION = re.compile(r"\b(?:lesions?|focus|foci|nodules?|observations?|areas?|targets?)\b", re.I)
_INTRODUCES = re.compile(r"\d\s*(?:mm|cm)\b|\b(?:T2W?I?|DWI|ADC|DCE)\b|\b(?:peripheral|transition) zone\b|\b[PT]Z\b",
                         re.I)
_PZ = re.compile(r"\bperipheral zone\b|\bPZ\b", re.I)
_TZ = re.compile(r"\btransition(?:al)? zone\b|\bTZ\b|\bcentral gland\b", re.I)
_SEP = r"\s*(?:score|category)?\s*(?:of\s*)?[:=]?\s*"
_T2W = re.compile(rf"\bT2(?:W|WI|-weighted)?{_SEP}(?P<score>[1-5])\b(?![.,]\d|\s*(?:mm|cm))", re.I)
_DWI = re.compile(rf"\b(?:DWI|diffusion(?:-weighted)?(?: imaging)?){_SEP}(?P<score>[1-5])\b(?![.,]\d|\s*(?:mm|cm))", re.I)
_DCE_POSITIVE = re.compile(r"\bDCE\s*(?:is\s*)?(?::\s*)?(?:\+|positive)|\bpositive DCE\b|\bearly (?:focal )?enhancement\b",
                           re.I)
_DCE_NEGATIVE = re.compile(r"\bDCE\s*(?:is\s*)?(?::\s*)?(?:-|negative)|\bnegative DCE\b|\bno early (?:focal )?enhancement\b",
                           re.I)
_MARKED_DWI = re.compile(r"\bmarkedly hypointense on (?:the )?ADC\b[^.;]{0,60}\bmarkedly hyperintense\b", re.I)
_TYPICAL_NODULE = re.compile(r"\b(?:typical|completely encapsulated|well[- ]encapsulated|encapsulated)\b[^.;]{0,40}"
                             r"\b(?:BPH |adenomatous |stromal )?nodules?\b|\btypical BPH\b", re.I)
_SUSPICIOUS = re.compile(r"\b(?:suspicious|focal) (?:lesions?|abnormalit\w*|areas?)\b|\blesions? suspicious\b", re.I)
SITES = re.compile(rf"\b{SIDE}(?: (?:apex|mid[- ]gland|base|apical|basal))?\b[^.;,]{{0,12}}\b(?:peripheral|"
                   r"transition) zone\b|\b(?:peripheral|transition) zone\b|\b(?:apex|mid[- ]gland|base)\b", re.I)


def _score(pattern: re.Pattern, text: str, start: int, end: int) -> int | None:
    m = pattern.search(text, start, end)
    return int(m.group("score")) if m else None


def read_lesion(text: str, start: int, end: int) -> tuple[str | None, int | None, int | None, bool | None]:
    """(zone, T2W score, DWI score, DCE positive) of the lesion described in text[start:end]."""
    zone = "peripheral" if _PZ.search(text, start, end) else "transition" if _TZ.search(text, start, end) else None
    t2w, dwi = _score(_T2W, text, start, end), _score(_DWI, text, start, end)
    if t2w is None and first_asserted(_TYPICAL_NODULE, text, start, end):
        t2w = 1
    if dwi is None and first_asserted(_MARKED_DWI, text, start, end):
        found = sizes(text, start, end)
        dwi = (5 if max(s.longest_mm for s in found) >= 15 else 4) if found else None
    dce = True if first_asserted(_DCE_POSITIVE, text, start, end) else False if (
        _DCE_NEGATIVE.search(text, start, end)) else None
    return zone, t2w, dwi, dce


def describe(zone: str | None, t2w: int | None, dwi: int | None, dce: bool | None) -> str:
    parts = [f"{zone} zone" if zone else "zone not stated", f"T2W {t2w}" if t2w else "T2W not stated",
             f"DWI {dwi}" if dwi else "DWI not stated",
             "DCE positive" if dce else "DCE negative" if dce is False else "DCE not stated"]
    return ", ".join(parts)


class PiRads(RadsFormula):
    system = "PI-RADS"
    version = VERSION
    order = ("1", "2", "3", "4", "5")
    nothing_read = "no prostate lesion described with its zone and sequence scores"

    def applies(self, report: Report) -> bool:
        """PI-RADS assesses multiparametric prostate MRI."""
        return report.modality == "MR" and bool(_CONTEXT.search(report.examination or report.text[:300]))

    def lesions(self, report: Report) -> list[Computed]:
        text, out = report.text, []
        for block in lesion_blocks(text, _LESION, feature_spans(report), _INTRODUCES):
            if first_asserted(_TYPICAL_NODULE, text, block.start, block.end) and not _INTRODUCES.search(
                    text, block.start, block.end):
                continue
            zone, t2w, dwi, dce = read_lesion(text, block.start, block.end)
            if zone is None and t2w is None and dwi is None:
                continue  # a sentence that names a size or a sequence of no lesion (gland volume, technique)
            cat, why = category(zone, t2w, dwi, dce)
            right = sentence_bounds(text, block.noun_start, block.noun_end)[1]
            site = site_words(text, SITES, block.start, max(right, block.start))
            detail = describe(zone, t2w, dwi, dce) + (f"; {why}" if cat is None else "")
            out.append(Computed(self.system, self.version, cat, detail, trimmed(text, block.start, block.end),
                                site.words if site else None, reason=why if cat is None else None))
        return out

    def exam(self, report: Report, lesions: list[Computed]) -> Computed | None:
        """PI-RADS 1 when the report states no suspicious lesion (typical TZ nodules aside)."""
        if lesions:
            return super().exam(report, lesions)
        for start, end in feature_spans(report):
            for m in _SUSPICIOUS.finditer(report.text, start, end):
                if absent(report.text, m.start(), m.end()):
                    left, right = sentence_bounds(report.text, m.start(), m.end())
                    return Computed(self.system, self.version, "1", "no suspicious lesion (T2W 1 / DWI 1)",
                                    trimmed(report.text, max(left, start), right))
        return None

