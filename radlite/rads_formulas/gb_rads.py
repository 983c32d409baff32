"""GB-RADS (Gupta et al., Abdominal Radiology 2022): the risk category of gallbladder wall thickening on
ultrasound (non-acute setting), from the wall features the report states.

Computed where the consensus fixes the category by one stated feature set: 1 a normal wall (no
thickening); 2 symmetric, circumferential (diffuse) thickening with intramural cysts or echogenic
foci (comet-tail artefacts); 5 thickening with loss of the interface with the liver or infiltration
of the liver. Left open, with the reason: thickening described by other features (focal or
asymmetric extent, layering, without intramural features): categories 3 and 4 turn on the full
combination of extent, symmetry, layered appearance and interface, which is not computed here.
"""

from __future__ import annotations

import re

from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.mentions import absent, asserted, feature_spans, first_asserted, sentences_with, trimmed
from radlite.report import Report

VERSION = "GB-RADS 2022"

_GALLBLADDER = re.compile(r"\bgall-?bladder\b|\bGB\b", re.I)
_GB_RADS = re.compile(r"\bGB-?\s?RADS\b", re.I)
_THICKENING = re.compile(r"\b(?:wall )?thicken\w*\b|\bthick(?:-walled| wall)\b", re.I)
_NORMAL = re.compile(r"\b(?:gall-?bladder |GB )?wall (?:is |appears )?(?:normal|thin|not thickened)\b|"
                     r"\bnormal (?:gall-?bladder |GB )?wall\b|\bnormal(?:-appearing)? gall-?bladder\b", re.I)
_SYMMETRIC = re.compile(r"\bsymmetric(?:al)?\b|\bcircumferential\b|\bdiffuse(?:ly)?\b|\buniform(?:ly)?\b", re.I)
_ASYMMETRIC_OR_FOCAL = re.compile(r"\basymmetric\w*\b|\bfocal(?:ly)?\b|\bsegmental\b|\bfundal\b|\beccentric\b", re.I)
_INTRAMURAL = re.compile(r"\bintramural (?:cysts?|cystic spaces|echogenic foci|diverticula)\b|\bcomet[- ]tail\b|"
                         r"\bRokitansky[- ]Aschoff sinuses\b|\btwinkling artifacts?\b", re.I)
_LIVER = re.compile(r"\b(?:loss|obliteration) of (?:the )?(?:fat )?(?:plane|interface) (?:with|between)[^.;]{0,25}\bliver\b|"
                    r"\binterface with (?:the )?liver (?:is )?(?:lost|obliterated|indistinct|not (?:seen|maintained))\b|"
                    r"\b(?:infiltrat\w*|invad\w*|invasion|extend\w*|extension) (?:of |into |to )?(?:the )?(?:adjacent )?"
                    r"(?:liver|hepatic parenchyma|segments? (?:4b|IVb|5|V))\b", re.I)


def category(thickened: bool, symmetric: bool | None, intramural: bool, liver_interface_lost: bool) -> tuple[str | None, str]:
    """(category, why) from the wall features; None with why when categories 3 / 4 would need more."""
    if liver_interface_lost:
        return "5", ""
    if not thickened:
        return "1", ""
    if symmetric and intramural:
        return "2", ""
    if intramural and symmetric is None:
        return None, "extent of the thickening (circumferential or focal) not stated"
    if not intramural:
        return None, "wall thickening without intramural cysts or echogenic foci: 3 or 4 need layering and extent"
    return None, "focal or asymmetric thickening with intramural features: extent not computed"


class GbRads(RadsFormula):
    system = "GB-RADS"
    version = VERSION
    order = ("0", "1", "2", "3", "4", "5")
    nothing_read = "gallbladder wall not described"

    def applies(self, report: Report) -> bool:
        """GB-RADS stratifies gallbladder wall thickening on ultrasound: it applies where the report finds
        the wall thickened, names GB-RADS, or is asked about the wall (its indication), not to every
        upper-abdominal ultrasound that mentions a normal gallbladder."""
        if report.modality != "US" or not _GALLBLADDER.search(report.text):
            return False
        spans = feature_spans(report)
        asked = f"{report.indication} {report.examination}"
        return bool(_GB_RADS.search(report.text) or _THICKENING.search(asked)
                    or any(first_asserted(_THICKENING, report.text, s, e) for s, e in spans))

    def lesions(self, report: Report) -> list[Computed]:
        """One category for the gallbladder wall, from the sentences about the gallbladder and its wall."""
        text, spans = report.text, feature_spans(report)
        sentences = sentences_with(_GALLBLADDER, text, spans)
        sentences += [s for s in sentences_with(_THICKENING, text, spans) if s not in sentences]
        sentences.sort()
        if not sentences:
            return []
        thick = [m for s, e in sentences for m in _THICKENING.finditer(text, s, e) if asserted(text, m.start(), m.end())]
        normal = any(first_asserted(_NORMAL, text, s, e) for s, e in sentences) or any(
            absent(text, m.start(), m.end()) for s, e in sentences for m in _THICKENING.finditer(text, s, e))
        liver = any(first_asserted(_LIVER, text, s, e) for s, e in sentences)
        if not thick and not normal and not liver:
            return []
        where = [(s, e) for s, e in sentences if any(s <= m.start() < e for m in thick)] or sentences
        intramural = any(first_asserted(_INTRAMURAL, text, s, e) for s, e in where)
        symmetric = (False if any(first_asserted(_ASYMMETRIC_OR_FOCAL, text, s, e) for s, e in where) else
                     True if any(first_asserted(_SYMMETRIC, text, s, e) for s, e in where) else None)
        cat, why = category(bool(thick), symmetric, intramural, liver)
        features = ("loss of the interface with the liver" if liver else "wall not thickened" if not thick else
                    f"wall thickening, {'symmetric/circumferential' if symmetric else 'focal/asymmetric' if symmetric is False else 'extent not stated'}, "
                    f"{'intramural cysts/echogenic foci' if intramural else 'no intramural features stated'}")
        return [Computed(self.system, self.version, cat, features + (f"; {why}" if why else ""),
                         trimmed(text, where[0][0], where[-1][1]), "gallbladder", reason=why or None)]
