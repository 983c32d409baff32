"""LI-RADS v2018 CT/MRI (ACR): the category of each liver observation of a patient at risk for HCC,
from its size and major features, by the v2018 diagnostic table; LR-TIV and LR-M where the report
states enhancing soft tissue in a vein or a targetoid / LR-M feature.

Diagnostic table (additional major features: nonperipheral washout, enhancing capsule, threshold growth):
no APHE: < 20 mm 0-1 feature LR-3, >= 2 LR-4; >= 20 mm 0 LR-3, >= 1 LR-4. Nonrim APHE: < 10 mm 0 LR-3,
>= 1 LR-4; 10-19 mm 0 LR-3, capsule alone LR-4, washout or threshold growth LR-5, >= 2 LR-5;
>= 20 mm 0 LR-4, >= 1 LR-5. Threshold growth is read only where the report names it ("threshold
growth") and counted absent otherwise (it needs a prior exam and reports name it when seen).
Left open, with the reason: an observation without a size, one whose arterial phase enhancement is
not stated, and one whose unstated washout or capsule would change its category (``settled``).
LR-1 / LR-2 (benign entities) and ancillary-feature adjustments are not computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radlite.rads_formulas.formula import Computed, RadsFormula, settled
from radlite.rads_formulas.measure import sizes
from radlite.rads_formulas.mentions import feature_spans, first_asserted, lesion_blocks, stated, trimmed
from radlite.report import Report
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import SIDE, site_words

VERSION = "LI-RADS v2018"


@dataclass(frozen=True)
class ObservationFeatures:
    """Major features of one observation; None: the report does not state it."""

    size_mm: float
    aphe: bool
    washout: bool | None
    capsule: bool | None
    threshold_growth: bool = False


def diagnostic_table(size_mm: float, aphe: bool, washout: bool, capsule: bool, threshold_growth: bool) -> str:
    """The LI-RADS v2018 CT/MRI diagnostic table (LR-3, LR-4 or LR-5)."""
    extra = sum((washout, capsule, threshold_growth))
    if not aphe:
        if size_mm < 20:
            return "4" if extra >= 2 else "3"
        return "4" if extra >= 1 else "3"
    if size_mm < 10:
        return "4" if extra >= 1 else "3"
    if size_mm < 20:
        if extra == 0:
            return "3"
        return "5" if washout or threshold_growth else "4"
    return "5" if extra >= 1 else "4"


def category(f: ObservationFeatures) -> tuple[str | None, str]:
    """(category, why): the table's category when the stated features fix it, else None and what is missing."""
    known = {"size_mm": f.size_mm, "aphe": f.aphe, "threshold_growth": f.threshold_growth}
    unknown = {}
    for name in ("washout", "capsule"):
        value = getattr(f, name)
        if value is None:
            unknown[name] = (False, True)
        else:
            known[name] = value
    return settled(diagnostic_table, known, unknown)


# --- Reading the features ---------------------------------------------------------------------------

_CONTEXT = re.compile(r"cirrho|hepatitis\s+B|\bHBV\b|hepatocellular|\bHCC\b|LI-?\s?RADS|\bLR-\d", re.I)
#: Liver words, Couinaud segments and the portal vein name the organ when "liver" is not written.
_LIVER = re.compile(r"\bliver\b|hepat|\bsegments?\s*(?:[1-8]|IV[AB]?|VI{0,3}|I{1,3})\b|\bportal vein\b", re.I)
_OBSERVATION = re.compile(r"\b(?:observations?|lesions?|nodules?|mass(?:es)?|focus|foci)\b", re.I)
_SIZE_WORDS = re.compile(r"\d\s*-?\s*(?:mm|cm)\b", re.I)
_TIV = re.compile(r"\btumou?r in (?:the )?vein\b|\benhancing (?:soft tissue|tumou?r thrombus)\b[^.;]{0,40}\bvein|"
                  r"\btumou?r thrombus\b|\benhancing thrombus\b", re.I)
_LR_M = re.compile(r"(?<!non-)(?<!non )\brim (?:(?:arterial phase )?(?:hyper-?)?enhancement|APHE)\b|(?<!non)(?<!non-)\bperipheral "
                   r"(?:\"?washout\"?|wash-out)|\bdelayed central enhancement\b|\btargetoid\b|\binfiltrative\b",
                   re.I)
_RIM_APHE = re.compile(r"\brim\b", re.I)
_APHE = re.compile(r"\b(?:non-?rim )?(?:APHE|arterial(?: phase)? hyper-?enhanc\w*|hyper-?enhanc\w* (?:in|on|during) "
                   r"the (?:late )?arterial phase|arterial(?: phase)? enhancement|hyper-?enhancing in the arterial "
                   r"phase|arterially (?:hyper-?)?enhancing|hypervascular)\b", re.I)
_NO_APHE = re.compile(r"\b(?:hypo|iso)-?(?:enhanc\w*|attenuating|intense)\b[^.;]{0,25}\barterial\b|"
                      r"\bwithout (?:APHE|arterial(?: phase)? (?:hyper-?)?enhancement)\b", re.I)
_WASHOUT = re.compile(r"\b(?:non-?peripheral )?\"?wash-?out\"?(?: appearance)?", re.I)
_CAPSULE = re.compile(r"\b(?:enhancing )?\"?(?:pseudo-?)?capsule\"?", re.I)
_GROWTH = re.compile(r"\bthreshold growth\b", re.I)
_OTHER_ORGAN = re.compile(r"\b(?:kidneys?|renal|spleen|splenic|adrenal|pancrea\w*|lungs?|pulmonary|bones?|osseous|"
                          r"vertebra\w*|uterus|ovar\w*|gallbladder|bowel|colon|stomach|lymph nodes?)\b", re.I)
SITES = re.compile(r"\bsegments?\s*(?:[1-8]|VIII|VII|VI|IV[AB]?|V|III|II|I)(?:\s*/\s*[1-8])?\b|\bcaudate(?: lobe)?\b|"
                   rf"\b{SIDE} (?:hepatic )?lobe\b|\bdome\b", re.I)


def read_observation(text: str, start: int, end: int, noun_start: int) -> tuple[ObservationFeatures | None, str]:
    """The major features of the observation described in text[start:end], or None and what is missing."""
    found = sizes(text, start, end)
    if not found:
        return None, "observation without a size"
    size = min(found, key=lambda s: abs(s.start - noun_start))
    aphe = stated(_APHE, text, start, end)
    if aphe and all(_RIM_APHE.search(text, max(start, m.start() - 12), m.start())
                    for m in _APHE.finditer(text, start, end)):
        aphe = None
    if aphe is None and first_asserted(_NO_APHE, text, start, end):
        aphe = False
    if aphe is None:
        return None, "arterial phase enhancement not stated"
    return ObservationFeatures(size.longest_mm, aphe, stated(_WASHOUT, text, start, end), stated(_CAPSULE, text, start, end),
                               bool(first_asserted(_GROWTH, text, start, end))), ""


def describe(f: ObservationFeatures) -> str:
    def word(value: bool | None, name: str) -> str:
        return name if value else f"no {name}" if value is False else f"{name} not stated"
    return (f"observation {f.size_mm:g} mm, {'nonrim APHE' if f.aphe else 'no APHE'}, {word(f.washout, 'washout')}, "
            f"{word(f.capsule, 'capsule')}, {'threshold growth' if f.threshold_growth else 'no threshold growth stated'}")


class LiRads(RadsFormula):
    system = "LI-RADS"
    version = VERSION
    order = ("1", "2", "3", "4", "M", "5", "TIV")
    nothing_read = "no liver observation described with its size and major features"

    def applies(self, report: Report) -> bool:
        """LI-RADS CT/MRI assesses liver observations of patients at risk for HCC."""
        head = report.examination or report.text[:200]
        return report.modality in ("CT", "MR") and bool(_LIVER.search(head) or _LIVER.search(report.text)) \
            and bool(_CONTEXT.search(report.text))

    def lesions(self, report: Report) -> list[Computed]:
        text, spans, out = report.text, feature_spans(report), []
        for block in lesion_blocks(text, _OBSERVATION, spans, _SIZE_WORDS):
            left, right = sentence_bounds(text, block.noun_start, block.noun_end)
            if _OTHER_ORGAN.search(text, left, right) and not _LIVER.search(text, left, right):
                continue  # a renal, splenic, adrenal ... lesion of the same CT is not a liver observation
            site = site_words(text, SITES, block.start, sentence_bounds(text, block.noun_start, block.noun_end)[1])
            evidence = trimmed(text, block.start, block.end)
            where = site.words if site else None
            if first_asserted(_TIV, text, block.start, block.end):
                out.append(Computed(self.system, self.version, "TIV", "enhancing soft tissue in a vein", evidence, where))
                continue
            if m := first_asserted(_LR_M, text, block.start, block.end):
                out.append(Computed(self.system, self.version, "M", f"LR-M feature: {m.group().lower()}", evidence,
                                    where))
                continue
            features, missing = read_observation(text, block.start, block.end, block.noun_start)
            cat, why = category(features) if features else (None, missing)
            detail = describe(features) if features else missing
            out.append(Computed(self.system, self.version, cat, detail + (f"; {why}" if cat is None and features else ""),
                                evidence, where, reason=why if cat is None else None))
        return out
