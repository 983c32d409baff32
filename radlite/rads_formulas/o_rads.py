"""O-RADS US v2022 (ACR; Strachowski et al., Radiology 2023): the risk category of each adnexal lesion
from its lexicon descriptors: lesion type, inner wall / contour, solid components and papillary
projections, colour score (CS 1-4), largest diameter, menopausal status, and ascites or peritoneal
nodules.

1: physiologic (follicle <= 3 cm in a premenopausal patient, corpus luteum). 2: simple cyst <= 3 cm
(postmenopausal) or > 3 and < 10 cm; unilocular or bilocular smooth cyst without solid component
< 10 cm; classic benign lesion (typical haemorrhagic cyst, dermoid, endometrioma, paraovarian cyst,
peritoneal inclusion cyst, hydrosalpinx) < 10 cm. 3: the same >= 10 cm; unilocular cyst with an
irregular inner wall; multilocular smooth cyst < 10 cm, CS 1-3; solid smooth lesion CS 1. 4:
multilocular smooth cyst >= 10 cm or CS 4; multilocular cyst with irregular inner wall or septation;
unilocular cyst with a solid component or 1-3 papillary projections; bilocular cyst with a solid
component; multilocular cyst with a solid component CS 1-2; solid smooth lesion CS 2-3. 5: unilocular
cyst with >= 4 papillary projections; multilocular cyst with a solid component CS 3-4; solid smooth
lesion CS 4; solid irregular lesion; ascites and/or peritoneal nodules. A smooth inner wall has no
solid component (lexicon). Left open, with the reason: a lesion of unstated type, and a missing
size, colour score or menopausal status where it decides the category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.measure import sizes
from radlite.rads_formulas.mentions import (
    absent,
    feature_spans,
    first_asserted,
    lesion_blocks,
    stated,
    trimmed,
)
from radlite.report import Report
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import SIDE, site_words

VERSION = "O-RADS US v2022"
Kind = Literal["physiologic", "classic", "simple", "unilocular", "bilocular", "multilocular", "solid"]


@dataclass(frozen=True)
class LesionFeatures:
    """One adnexal lesion's descriptors; None: not stated. ``smooth``: inner wall (cysts) or outer
    contour (solid lesions) smooth; ``papillary``: number of papillary projections (4 = four or more)."""

    kind: Kind | None
    size_cm: float | None = None
    smooth: bool | None = None
    solid_component: bool | None = None
    papillary: int | None = None
    colour_score: int | None = None
    premenopausal: bool | None = None
    ascites_or_nodules: bool = False


def category(f: LesionFeatures) -> tuple[str | None, str]:
    """(category, why) by the v2022 risk stratification table; None with what is missing."""
    if f.ascites_or_nodules:
        return "5", ""
    if f.kind is None:
        return None, "lesion type (cyst, solid, classic benign lesion) not stated"
    if f.kind == "physiologic":
        return "1", ""
    if f.kind == "solid":
        return _solid(f)
    if f.solid_component or f.papillary:
        return _with_solid(f)
    if f.kind == "multilocular":
        return _multilocular(f)
    if f.kind in ("unilocular", "bilocular") and f.smooth is False:
        return ("3", "") if f.kind == "unilocular" else (None, "bilocular cyst with an irregular wall: not in the table")
    if f.kind in ("unilocular", "bilocular") and f.smooth is None and f.solid_component is None:
        return None, "inner wall (smooth or irregular) and solid component not stated"
    if f.size_cm is None:
        return None, "largest diameter not stated"
    if f.size_cm >= 10:
        return "3", ""
    if f.kind == "simple" and f.size_cm <= 3:
        if f.premenopausal is None:
            return None, "menopausal status not stated (a simple cyst <= 3 cm is a follicle before menopause)"
        return ("1" if f.premenopausal else "2"), ""
    return "2", ""


def _solid(f: LesionFeatures) -> tuple[str | None, str]:
    if f.smooth is False:
        return "5", ""
    if f.smooth is None:
        return None, "contour of the solid lesion (smooth or irregular) not stated"
    if f.colour_score is None:
        return None, "colour score not stated"
    return ("3" if f.colour_score == 1 else "4" if f.colour_score <= 3 else "5"), ""


def _with_solid(f: LesionFeatures) -> tuple[str | None, str]:
    if f.kind == "multilocular":
        if f.colour_score is None:
            return None, "colour score not stated (it decides a multilocular cyst with a solid component)"
        return ("4" if f.colour_score <= 2 else "5"), ""
    if f.kind == "bilocular":
        return "4", ""
    if f.kind in ("unilocular", "simple"):
        if f.papillary is None and not f.solid_component:
            return None, "number of papillary projections not stated"
        return ("5" if (f.papillary or 0) >= 4 else "4"), ""
    return None, f"{f.kind} lesion with a solid component: not in the table"


def _multilocular(f: LesionFeatures) -> tuple[str | None, str]:
    if f.smooth is False:
        return "4", ""
    if f.smooth is None:
        return None, "inner wall / septations (smooth or irregular) not stated"
    if f.size_cm is None:
        return None, "largest diameter not stated"
    if f.size_cm >= 10:
        return "4", ""
    if f.colour_score is None:
        return None, "colour score not stated (CS 4 makes a smooth multilocular cyst 4)"
    return ("4" if f.colour_score == 4 else "3"), ""


# --- Reading the descriptors ------------------------------------------------------------------------

_CONTEXT = re.compile(r"ovar|adnex|pelvi|transvaginal|endovaginal", re.I)
_LESION = re.compile(r"\b(?:cysts?|mass(?:es)?|lesions?|endometriomas?|dermoids?|teratomas?|hydrosalpinx|follicles?|"
                     r"corpus luteum)\b", re.I)
_SIZE_WORDS = re.compile(r"\d\s*-?\s*(?:mm|cm)\b", re.I)
PHYSIOLOGIC = re.compile(r"\b(?:dominant )?follicles?\b|\bcorpus luteum\b", re.I)
CLASSIC = re.compile(r"\bha?emorrhagic cyst\b|\breticular (?:pattern|internal echoes)\b|\blace-?like\b|\bretracting clot\b|"
                     r"\bdermoid\b|\bmature (?:cystic )?teratoma\b|\bendometrioma\b|\bground[- ]glass (?:internal )?echoes\b|"
                     r"\bpara-?ovarian cyst\b|\bperitoneal inclusion cyst\b|\bhydrosalpinx\b", re.I)
_SIMPLE = re.compile(r"\bsimple(?:-appearing)? cyst\b|\banechoic\b[^.;]{0,40}\bcyst\b", re.I)
_MULTI = re.compile(r"\bmulti-?locular\b|\bmulti-?septated\b|\bmultiple (?:thin |thick )?septations\b", re.I)
_BI = re.compile(r"\bbi-?locular\b|\b(?:a )?single (?:complete |thin )?septation\b", re.I)
_UNI = re.compile(r"\buni-?locular\b|\bcyst\b", re.I)
_SOLID = re.compile(r"\bsolid(?:-appearing)? (?:mass|lesion)\b|\b(?:predominantly |completely |entirely )solid\b", re.I)
_IRREGULAR = re.compile(r"\birregular(?:,? (?:thick|thickened|nodular))? (?:inner )?(?:wall|walls|septations?|contour|"
                        r"margins?|outer contour)\b|"
                        r"\b(?:wall|contour|septations?) (?:is |are )?irregular\b", re.I)
_SMOOTH = re.compile(r"\bsmooth(?:ly)?(?:[- ]walled)?\b|\bthin[- ]walled\b|\bthin (?:smooth )?(?:wall|septations?)\b|"
                     r"\bimperceptible wall\b|\bwell[- ]circumscribed\b", re.I)
_COMPONENT = re.compile(r"\bsolid (?:components?|areas?|nodules?|portions?|elements?|tissue)\b|\bmural nodules?\b", re.I)
_PAPILLARY = re.compile(r"\b(?P<n>\d|one|two|three|four|five|six|a|single|multiple|several)?\s*(?:or more )?"
                        r"papillary projections?\b", re.I)
_NUMBERS = {"a": 1, "single": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_CS = re.compile(r"\bcolou?r score\s*(?:of\s*)?[:=]?\s*(?P<n>[1-4])\b|\bCS\s*[:=]?\s*(?P<m>[1-4])\b", re.I)
_FLOW = (
    (4, re.compile(r"\b(?:very strong|strong|marked|abundant|prominent) (?:internal )?(?:colou?r )?(?:doppler )?"
                   r"(?:flow|vascularity)\b", re.I)),
    (3, re.compile(r"\bmoderate (?:internal )?(?:colou?r )?(?:doppler )?(?:flow|vascularity)\b", re.I)),
    (2, re.compile(r"\b(?:minimal|scant|minimal internal) (?:internal )?(?:colou?r )?(?:doppler )?(?:flow|vascularity)\b",
                   re.I)),
)
_ANY_FLOW = re.compile(r"\b(?:internal )?(?:colou?r )?(?:doppler )?(?:flow|vascularity)\b", re.I)
_ASCITES = re.compile(r"\bascites\b|\bperitoneal (?:nodules?|implants?|nodularity)\b|\bomental cak\w*", re.I)
_PRE = re.compile(r"\bpre-?menopausal\b|\bLMP\b|\blast menstrual period\b|\bday \d+ of (?:the |her )?(?:menstrual )?cycle\b",
                  re.I)
_POST = re.compile(r"\bpost-?menopausal\b", re.I)
_ADNEXA = re.compile(r"\bovar\w*|\badnex\w*|\bpara-?ovarian\b|\bfallopian\b|\bhydrosalpinx\b|\bendometrioma\b|"
                     r"\bdermoid\b", re.I)
_OTHER_ORGAN = re.compile(r"\buter(?:us|ine)\b|\bcervi(?:x|cal)\b|\bnabothian\b|\bendometri(?:um|al)\b|\bmyometri\w*|"
                          r"\bfibroids?\b|\bkidneys?\b|\brenal\b|\bbladder\b|\bliver\b|\bhepatic\b", re.I)
SITES = re.compile(rf"\b{SIDE}(?: ovary| ovarian| adnexa(?:l)?)?\b", re.I)


def _kind(text: str, start: int, end: int) -> tuple[Kind | None, str | None]:
    """The lesion type (and the classic benign lesion's words) the description asserts."""
    if m := first_asserted(PHYSIOLOGIC, text, start, end):
        return "physiologic", m.group().lower()
    if m := first_asserted(CLASSIC, text, start, end):
        return "classic", m.group().lower()
    for pattern, kind in ((_SOLID, "solid"), (_MULTI, "multilocular"), (_BI, "bilocular")):
        if first_asserted(pattern, text, start, end):
            return kind, None
    if first_asserted(_SIMPLE, text, start, end):
        return "simple", None
    return ("unilocular", None) if first_asserted(_UNI, text, start, end) else (None, None)


def _colour_score(text: str, start: int, end: int) -> int | None:
    if m := _CS.search(text, start, end):
        return int(m.group("n") or m.group("m"))
    for score, pattern in _FLOW:
        if first_asserted(pattern, text, start, end):
            return score
    return 1 if any(absent(text, m.start(), m.end()) for m in _ANY_FLOW.finditer(text, start, end)) else None


def _papillary(text: str, start: int, end: int) -> int | None:
    m = first_asserted(_PAPILLARY, text, start, end)
    if m is None:
        return None
    word = (m.group("n") or "a").lower()
    if "or more" in m.group().lower():
        return 4
    return int(word) if word.isdigit() else _NUMBERS.get(word)


def read_lesion(text: str, start: int, end: int, noun_start: int, premenopausal: bool | None,
                ascites: bool) -> tuple[LesionFeatures, str | None]:
    """The descriptors stated in text[start:end] (and the classic lesion's words)."""
    kind, classic = _kind(text, start, end)
    found = sizes(text, start, end)
    size = min(found, key=lambda s: abs(s.start - noun_start)).longest_mm / 10 if found else None
    smooth = False if first_asserted(_IRREGULAR, text, start, end) else (
        True if first_asserted(_SMOOTH, text, start, end) else None)
    component = stated(_COMPONENT, text, start, end)
    papillary = _papillary(text, start, end)
    if kind == "simple" or (smooth and component is None and not papillary):
        component = False
    if kind == "simple":
        smooth = True
    return LesionFeatures(kind, size, smooth, component, papillary, _colour_score(text, start, end), premenopausal,
                          ascites), classic


def describe(f: LesionFeatures, classic: str | None) -> str:
    kind = classic or (f.kind or "lesion of unstated type")
    parts = [kind, f"{f.size_cm:g} cm" if f.size_cm is not None else "size not stated"]
    if f.smooth is not None:
        parts.append("smooth" if f.smooth else "irregular")
    if f.solid_component:
        parts.append("solid component")
    if f.papillary:
        parts.append(f"{f.papillary}{'+' if f.papillary >= 4 else ''} papillary projection(s)")
    if f.colour_score is not None:
        parts.append(f"CS {f.colour_score}")
    if f.ascites_or_nodules:
        parts.append("ascites / peritoneal nodules")
    return ", ".join(parts)


class ORads(RadsFormula):
    system = "O-RADS"
    version = VERSION
    order = ("0", "1", "2", "3", "4", "5")
    nothing_read = "no adnexal lesion described with its lexicon descriptors"

    def applies(self, report: Report) -> bool:
        """O-RADS US assesses adnexal lesions on pelvic / transvaginal ultrasound."""
        return report.modality == "US" and bool(_CONTEXT.search(report.examination or report.text[:300]))

    def lesions(self, report: Report) -> list[Computed]:
        text, spans, out = report.text, feature_spans(report), []
        premenopausal = True if _PRE.search(text) else False if _POST.search(text) else None
        ascites = any(first_asserted(_ASCITES, text, s, e) for s, e in spans)
        for block in lesion_blocks(text, _LESION, spans, _SIZE_WORDS):
            left, right = sentence_bounds(text, block.noun_start, block.noun_end)
            if _OTHER_ORGAN.search(text, left, right) and not _ADNEXA.search(text, left, right):
                continue  # a Nabothian cyst or a uterine lesion of the same ultrasound is not adnexal
            features, classic = read_lesion(text, block.start, block.end, block.noun_start, premenopausal, ascites)
            cat, why = category(features)
            right = sentence_bounds(text, block.noun_start, block.noun_end)[1]
            site = site_words(text, SITES, block.start, right)
            out.append(Computed(self.system, self.version, cat, describe(features, classic) + (f"; {why}" if why else ""),
                                trimmed(text, block.start, block.end), site.words if site else None,
                                reason=why or None))
        return out
