"""VI-RADS (Panebianco et al., Eur Urol 2018): the category of a bladder tumour on multiparametric MRI
from its T2-weighted features: the low-signal line of the muscularis propria, the stalk or thickened
inner layer, and size.

1: muscularis propria intact, tumour < 1 cm. 2: intact, tumour >= 1 cm with a stalk and/or a thickened
inner layer. 3: intact (no clear disruption), tumour >= 1 cm without a stalk (sessile / broad-based)
and without a thickened inner layer; the report must say both. 4: the low-signal line interrupted (extension into the muscularis propria).
5: extension into the extravesical fat. Left open, with the reason: a tumour whose muscularis propria
is not described, one without a size where size decides, and one >= 1 cm with neither a stalk nor a
thickened inner layer stated whose other feature is not described. The DWI and DCE scores that can
modify the T2W category are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.measure import sizes
from radlite.rads_formulas.mentions import absent, feature_spans, first_asserted, lesion_blocks, stated, trimmed
from radlite.report import Report
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import site_words

VERSION = "VI-RADS 2018"
Muscle = Literal["intact", "interrupted", "extravesical"]


@dataclass(frozen=True)
class TumourFeatures:
    """T2W features of one bladder tumour; None: not stated."""

    muscle: Muscle | None
    size_mm: float | None
    stalk: bool | None
    inner_layer: bool | None = None


def category(f: TumourFeatures) -> tuple[str | None, str]:
    """(category, why) by the T2W criteria; None with what is missing."""
    if f.muscle == "extravesical":
        return "5", ""
    if f.muscle == "interrupted":
        return "4", ""
    if f.muscle is None:
        return None, "muscularis propria (low-signal line) not described"
    if f.size_mm is None:
        return None, "tumour size not stated"
    if f.size_mm < 10:
        return "1", ""
    if f.stalk or f.inner_layer:
        return "2", ""
    if f.stalk is False and f.inner_layer is False:
        return "3", ""
    missing = [name for name, value in (("stalk", f.stalk), ("thickened inner layer", f.inner_layer)) if value is None]
    return None, " and ".join(missing) + " not described (they decide 2 or 3)"


_CONTEXT = re.compile(r"bladder|vesical", re.I)
_TUMOUR = re.compile(r"\b(?:tumou?rs?|mass(?:es)?|lesions?|neoplasms?)\b", re.I)
_INTRODUCES = re.compile(r"\d\s*(?:mm|cm)\b|\bwall\b", re.I)
_MUSCLE = r"(?:muscularis propria|muscle layer|detrusor(?: muscle)?|(?:low|hypointense)[- ](?:signal|SI)(?: intensity)? (?:line|band)|\bMP\b)"
_EXTRAVESICAL = re.compile(r"\bextravesical\b|\bperivesical fat\b[^.;]{0,30}\b(?:invasion|infiltrat\w*|involve\w*|extension)|"
                           r"\b(?:extend\w*|extension|invad\w*|infiltrat\w*|grow\w*)(?: through [^.;]{0,30}?)? (?:in)?to "
                           r"(?:the )?(?:perivesical|perivesicular) fat\b", re.I)
_INTACT = re.compile(rf"\b(?:uninterrupted|intact|preserved|continuous|not (?:interrupted|disrupted|breached))\b[^.;]{{0,40}}"
                     rf"{_MUSCLE}|{_MUSCLE}[^.;]{{0,40}}\b(?:is |are |remains? )?(?:uninterrupted|intact|preserved|"
                     rf"continuous)\b", re.I)
_INTERRUPTED = re.compile(rf"(?<!un)\b(?:interrupt\w*|disrupt\w*|breach\w*|invad\w*|invasion|infiltrat\w*|extends? "
                          rf"into|extension into)\b[^.;]{{0,40}}{_MUSCLE}|{_MUSCLE}[^.;]{{0,40}}(?<!un)\b(?:is |are )?"
                          rf"(?:interrupted|disrupted|breached|invaded|infiltrated)\b", re.I)
_STALK = re.compile(r"\bstalk\b|\bpedunculated\b", re.I)
_INNER_LAYER = re.compile(r"\bthickened (?:high[- ]signal )?(?:inner layer|submucosa|lamina propria)\b|"
                          r"\b(?:high[- ]signal )?inner layer\b[^.;]{0,20}\bthickened\b", re.I)
#: A sessile / broad-based tumour has no stalk (the lexicon's opposite of an exophytic one on a stalk).
_SESSILE = re.compile(r"\bsessile\b|\bbroad[- ]based\b", re.I)
SITES = re.compile(r"\b(?:right|left|anterior|posterior) (?:lateral )?wall\b|\b(?:bladder )?(?:dome|trigone|base|neck)\b",
                   re.I)


def _asserted_any(pattern: re.Pattern, text: str, start: int, end: int) -> bool:
    return bool(first_asserted(pattern, text, start, end))


def read_tumour(text: str, start: int, end: int, noun_start: int) -> TumourFeatures:
    """The T2W features stated in text[start:end]; a denied interruption ("no invasion of the
    muscularis propria") reads as intact."""
    if _asserted_any(_EXTRAVESICAL, text, start, end):
        muscle: Muscle | None = "extravesical"
    elif _asserted_any(_INTERRUPTED, text, start, end):
        muscle = "interrupted"
    elif _INTACT.search(text, start, end) or any(absent(text, m.start(), m.end())
                                                 for m in _INTERRUPTED.finditer(text, start, end)):
        muscle = "intact"
    else:
        muscle = None
    found = sizes(text, start, end)
    size = min(found, key=lambda s: abs(s.start - noun_start)).longest_mm if found else None
    stalk = stated(_STALK, text, start, end)
    if stalk is None and first_asserted(_SESSILE, text, start, end):
        stalk = False
    return TumourFeatures(muscle, size, stalk, stated(_INNER_LAYER, text, start, end))


def describe(f: TumourFeatures) -> str:
    muscle = {"intact": "muscularis propria intact", "interrupted": "muscularis propria interrupted",
              "extravesical": "extravesical extension", None: "muscularis propria not described"}[f.muscle]
    size = f"{f.size_mm:g} mm" if f.size_mm is not None else "size not stated"
    words = {True: "{}", False: "no {}", None: "{} not described"}
    return (f"bladder tumour {size}, {muscle}, {words[f.stalk].format('stalk')}, "
            f"{words[f.inner_layer].format('thickened inner layer')}")


class ViRads(RadsFormula):
    system = "VI-RADS"
    version = VERSION
    order = ("1", "2", "3", "4", "5")
    nothing_read = "no bladder tumour described with its muscularis propria"

    def applies(self, report: Report) -> bool:
        """VI-RADS assesses bladder cancer on multiparametric MRI."""
        return report.modality == "MR" and bool(_CONTEXT.search(report.examination or report.text[:300]))

    def lesions(self, report: Report) -> list[Computed]:
        text, out = report.text, []
        for block in lesion_blocks(text, _TUMOUR, feature_spans(report), _INTRODUCES):
            features = read_tumour(text, block.start, block.end, block.noun_start)
            cat, why = category(features)
            site = site_words(text, SITES, block.start, sentence_bounds(text, block.noun_start, block.noun_end)[1])
            out.append(Computed(self.system, self.version, cat, describe(features) + (f"; {why}" if why else ""),
                                trimmed(text, block.start, block.end), site.words if site else None,
                                reason=why or None))
        return out
