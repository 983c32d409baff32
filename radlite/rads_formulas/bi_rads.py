"""BI-RADS (ACR BI-RADS Atlas, 5th edition, 2013) where the lexicon alone fixes the assessment of a
breast exam: negative (1) and benign (2).

1: the report states nothing is there (no mass, suspicious calcification, architectural distortion
or asymmetry; "no mammographic evidence of malignancy") and describes no finding. 2: every finding
it describes is one the atlas names as benign: simple cyst, intramammary lymph node, oil cyst,
lipoma, hamartoma, galactocele, calcified (involuting) fibroadenoma, benign-type calcifications
(vascular, skin, coarse / popcorn, large rod-like, round, rim, dystrophic, milk of calcium, suture)
and postsurgical scar or fat necrosis. Anything else (a mass, an asymmetry, architectural
distortion, suspicious calcifications, a complicated cyst, adenopathy) leaves the category open:
3 to 6 need the radiologist's judgment, and 0 an unfinished work-up.
"""

from __future__ import annotations

import re

from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.mentions import absent, asserted, feature_spans, trimmed
from radlite.report import Report
from radlite.text.sentences import sentence_bounds

VERSION = "BI-RADS 5th edition"

_CALC_TYPE = (r"vascular|skin|dermal|coarse|popcorn(?:-like)?|large rod-like|rod-like|secretory|round|punctate benign|rim|"
              r"eggshell|dystrophic|milk of calcium|suture|benign(?:-appearing)?|scattered benign")
BENIGN = re.compile(rf"\bsimple cysts?\b|\bintramammary (?:lymph )?nodes?\b|\boil cysts?\b|\blipomas?\b|\bhamartomas?\b|"
                    rf"\bgalactoceles?\b|\b(?:calcified|involuting|degenerating) fibroadenomas?\b|"
                    rf"\b(?:{_CALC_TYPE})(?: and (?:{_CALC_TYPE}))? calcifications?\b|"
                    rf"\b(?:post-?surgical|surgical|post-?operative|lumpectomy) (?:scar|changes)\b|\bfat necrosis\b",
                    re.I)
OTHER = re.compile(r"\bmass(?:es)?\b|\basymmetr(?:y|ies)\b|\barchitectural distortion\b|\bdistortion\b|"
                   r"\b(?:amorphous|pleomorphic|fine[- ]linear(?: branching)?|coarse heterogeneous|suspicious|grouped|"
                   r"clustered|segmental|linear|micro-?)\s*calcifications?\b|\bmicrocalcifications?\b|\bspiculat\w*|"
                   r"\bcomplicated cysts?\b|\bcomplex cystic\b|\bsolid\b|\bnipple retraction\b|\bskin thickening\b|"
                   r"\b(?:axillary )?(?:lymph)?adenopathy\b|\benlarged (?:axillary )?lymph nodes?\b|\bnon-?mass enhancement\b|"
                   r"\bfibroadenomas?\b|\bnodules?\b|\blesions?\b", re.I)
#: What a negative exam denies.
NEGATIVE = re.compile(r"\b(?:mass(?:es)?|calcifications?|architectural distortion|distortion|asymmetr(?:y|ies)|"
                      r"(?:evidence of )?malignancy|abnormalit(?:y|ies)|findings?|lesions?)\b", re.I)
_CONTEXT = re.compile(r"mammo|breast|tomosynthesis", re.I)


def category(other: bool, benign: bool, negative: bool) -> tuple[str | None, str]:
    """(category, why) from what the report describes: another finding, a benign one, a stated negative."""
    if other:
        return None, "a finding beyond the lexicon's benign ones: 0 and 3-6 need the radiologist's assessment"
    if benign:
        return "2", ""
    if negative:
        return "1", ""
    return None, "no finding and no negative statement read"


class BiRads(RadsFormula):
    system = "BI-RADS"
    version = VERSION
    order = ("1", "2")
    nothing_read = "no finding and no negative statement read"

    def applies(self, report: Report) -> bool:
        """BI-RADS assesses mammography, breast ultrasound and breast MRI."""
        head = report.examination or report.text[:200]
        return report.modality == "MG" or (report.modality in ("US", "MR") and bool(_CONTEXT.search(head)))

    def lesions(self, report: Report) -> list[Computed]:
        """One exam-level category (the atlas assesses the exam; a side row comes from stated categories)."""
        text, spans = report.text, feature_spans(report)
        benign = [m for s, e in spans for m in BENIGN.finditer(text, s, e) if asserted(text, m.start(), m.end())]
        benign_sentences = [sentence_bounds(text, m.start(), m.end()) for m in benign]
        other = [m for s, e in spans for m in OTHER.finditer(text, s, e)
                 if asserted(text, m.start(), m.end()) and not any(a <= m.start() < b for a, b in benign_sentences)]
        negative = [m for s, e in spans for m in NEGATIVE.finditer(text, s, e) if absent(text, m.start(), m.end())]
        cat, why = category(bool(other), bool(benign), bool(negative))
        anchor = other[0] if other else benign[0] if benign else negative[0] if negative else None
        if anchor is None:
            return []
        left, right = sentence_bounds(text, anchor.start(), anchor.end())
        left = max([left] + [s for s, e in spans if s <= anchor.start() < e])
        features = ("finding: " + anchor.group().lower() if other else
                    "benign: " + ", ".join(dict.fromkeys(m.group().lower() for m in benign)) if benign else
                    "negative: no finding")
        return [Computed(self.system, self.version, cat, features + (f"; {why}" if why else ""),
                         trimmed(text, left, right), reason=why or None)]
