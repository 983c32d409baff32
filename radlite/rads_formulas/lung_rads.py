"""Lung-RADS v2022 (ACR): the category of each pulmonary nodule of a lung cancer screening CT, from
its type (solid, part-solid, ground-glass), mean diameter (and solid component) and whether it is
baseline, new or growing; the exam takes its most suspicious nodule's category.

Source: ACR Lung-RADS v2022 assessment categories (published category definitions). Left open, with
the reason: a stable nodule that would be category 3 or higher at baseline (its category depends on
its earlier category and the interval), juxtapleural / perifissural solid nodules of 6 to < 10 mm
(v2022's category 2 rule for them needs their shape and margins), airway nodules, subsolid nodules of
unstated type, and 4X (needs the radiologist's judgment of additional features).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from radlite.evidence import Evidence
from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.measure import Size, prior_size_mm, round_tenth, sizes
from radlite.rads_formulas.mentions import (
    absent,
    feature_spans,
    first_asserted,
    lesion_blocks,
)
from radlite.report import Report
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import LOBE_ABBREVIATION, LUNG_LOBE, SIDE, site_words

VERSION = "Lung-RADS v2022"
NoduleType = Literal["solid", "part-solid", "ground-glass"]
Timing = Literal["baseline", "new", "growing", "stable"]
#: Growth: an increase of more than 1.5 mm in mean diameter (ACR Lung-RADS v2022, as v1.1). The
#: timeline reads a lung lesion's size change with it too, both ways (radlite.timeline.changes): a 12 ->
#: 14 mm nodule grew though by less than the 20% used elsewhere.
GROWTH_MM = 1.5


@dataclass(frozen=True)
class NoduleFeatures:
    """What the formula needs of one nodule. ``solid_mm``: the solid component of a part-solid nodule."""

    type: NoduleType
    mean_mm: float
    timing: Timing = "baseline"
    solid_mm: float | None = None
    benign: bool = False
    juxtapleural: bool = False


def category(f: NoduleFeatures) -> tuple[str | None, str]:
    """(category, why): Lung-RADS v2022 for one nodule; category None when the rules leave it open."""
    if f.benign:
        return "1", "benign calcification or fat"
    if f.type == "solid":
        cat = _solid(f.mean_mm, f.timing)
    elif f.type == "part-solid":
        if f.solid_mm is None:
            return None, "part-solid nodule without a stated solid component size"
        cat = _part_solid(f.mean_mm, f.solid_mm, f.timing)
    else:
        cat = "3" if f.mean_mm >= 30 and f.timing in ("baseline", "new") else "2"
    if f.timing == "stable" and cat not in ("1", "2"):
        return None, "stable nodule: its category depends on its earlier category and the interval"
    if f.juxtapleural and f.type == "solid" and 6 <= f.mean_mm < 10 and f.timing in ("baseline", "new"):
        return None, "juxtapleural/perifissural solid nodule 6-10 mm: category 2 needs shape and margins"
    return cat, ""


def _solid(mm: float, timing: Timing) -> str:
    if timing == "growing":
        return "4A" if mm < 8 else "4B"
    if timing == "new":
        return "2" if mm < 4 else "3" if mm < 6 else "4A" if mm < 8 else "4B"
    return "2" if mm < 6 else "3" if mm < 8 else "4A" if mm < 15 else "4B"


def _part_solid(total: float, solid: float, timing: Timing) -> str:
    if timing in ("new", "growing"):
        if timing == "new" and total < 6:
            return "3"
        return "4A" if solid < 4 else "4B"
    if total < 6:
        return "2"
    return "3" if solid < 6 else "4A" if solid < 8 else "4B"


# --- Reading the features ---------------------------------------------------------------------------

_CONTEXT = re.compile(r"lung-?\s?rads|lung cancer screening|low[- ]dose|\bLDCT\b|screening (?:chest )?CT", re.I)
_LDCT = re.compile(r"\bLDCT\b|low[- ]dose (?:chest )?CT", re.I)
_NODULE = re.compile(r"\b(?:nodules?|GGNs?|GGOs?)\b", re.I)
_NO_NODULES = re.compile(r"\b(?:pulmonary|lung)\s+nodules?\b|\bnodules?\b", re.I)
_SIZE_WORDS = re.compile(r"\d\s*-?\s*(?:mm|cm)\b", re.I)
_PART_SOLID = re.compile(r"\bpart(?:ly|ially)?[- ]?solid\b|\bsemi-?solid\b|\bmixed (?:solid and )?ground[- ]glass",
                         re.I)
_GROUND_GLASS = re.compile(r"\bground[- ]glass\b|\bGG[NO]s?\b|\bnon-?solid\b", re.I)
_SUBSOLID = re.compile(r"\bsub-?solid\b", re.I)
_BENIGN = re.compile(r"(?<![-\w])(?:calcified|calcification|popcorn|fat[- ]containing|contains? (?:macroscopic )?fat|"
                     r"granulomas?|hamartoma)\b", re.I)
_JUXTAPLEURAL = re.compile(r"\b(?:juxta-?pleural|perifissural|subpleural|pleural[- ]based|fissural)\b", re.I)
_AIRWAY = re.compile(r"\b(?:endobronchial|airway|intraluminal)\b", re.I)
_NEW = re.compile(r"\b(?:new(?:ly)?|not (?:seen|present) (?:on|in) (?:the )?prior|interval (?:development|appearance))\b",
                  re.I)
_GROWING = re.compile(r"\b(?:increas\w* in size|enlarg\w*|grow(?:n|ing|th)|larger|increased from)\b", re.I)
_STABLE = re.compile(r"\b(?:stable|unchanged|no (?:interval )?change)\b", re.I)
SITES = re.compile(rf"\b{SIDE}\s+{LUNG_LOBE}s?\b|\blingula\b|{LOBE_ABBREVIATION}", re.I)


def _is_prior(text: str, size: Size) -> bool:
    return bool(re.match(r"\s+to\s+\d", text[size.end:size.end + 8]))


_COMPONENT_AFTER = re.compile(r"\s*solid component", re.I)
_COMPONENT_BEFORE = re.compile(r"solid component\s*(?:of|measuring|measures|is|:)?\s*(?:about |approximately )?$", re.I)


def _is_component(text: str, size: Size) -> bool:
    """The size is the solid component's ("5 mm solid component", "solid component of 5 mm")."""
    return bool(_COMPONENT_AFTER.match(text, size.end) or _COMPONENT_BEFORE.search(text[max(0, size.start - 40):
                                                                                        size.start]))


def _nodule_size(text: str, block, right: int) -> Size | None:
    """The nodule's current size: the measurement nearest its noun in its sentence (not an earlier size)."""
    found = [s for s in sizes(text, block.start, right) if not _is_prior(text, s) and not _is_component(text, s)]
    return min(found, key=lambda s: abs(s.start - block.noun_start)) if found else None


def _solid_component(text: str, start: int, end: int) -> float | None:
    return next((s.mean_mm for s in sizes(text, start, end) if _is_component(text, s)), None)


def _timing(text: str, start: int, end: int, size: Size) -> Timing:
    prior = prior_size_mm(text, size)
    if prior is not None:
        return "growing" if round_tenth(size.mean_mm - prior) > GROWTH_MM else "stable"
    for pattern, timing in ((_GROWING, "growing"), (_NEW, "new"), (_STABLE, "stable")):
        if first_asserted(pattern, text, start, end):
            return timing
    return "baseline"


def _type(text: str, start: int, end: int) -> NoduleType | None:
    if first_asserted(_PART_SOLID, text, start, end):
        return "part-solid"
    if first_asserted(_GROUND_GLASS, text, start, end):
        return "ground-glass"
    if _SUBSOLID.search(text, start, end):
        return None
    return "solid"  # a nodule of unstated type is read as solid, as screening reports write them


def read_nodule(text: str, block) -> tuple[NoduleFeatures | None, str]:
    """The features of the nodule described in ``block``, or None and what is missing."""
    _, sentence_end = sentence_bounds(text, block.noun_start, block.noun_end)
    right = min(block.end, sentence_end)
    size = _nodule_size(text, block, right)
    if size is None:
        return None, "nodule without a size"
    if first_asserted(_AIRWAY, text, block.start, right):
        return None, "airway nodule: not computed"
    nodule_type = _type(text, block.start, block.end)
    if nodule_type is None:
        return None, "subsolid nodule of unstated type (part-solid or ground-glass)"
    benign = bool(first_asserted(_BENIGN, text, block.start, right)) and not re.search(
        r"non-?calcified", text[block.start:right], re.I)
    features = NoduleFeatures(type=nodule_type, mean_mm=size.mean_mm, timing=_timing(text, block.start, block.end, size),
                              solid_mm=_solid_component(text, block.start, block.end) if nodule_type == "part-solid"
                              else None, benign=benign,
                              juxtapleural=bool(first_asserted(_JUXTAPLEURAL, text, block.start, right)))
    return features, ""


def describe(f: NoduleFeatures) -> str:
    solid = f", solid component {f.solid_mm:g} mm" if f.solid_mm is not None else ""
    extra = ", benign calcification/fat" if f.benign else ", juxtapleural/perifissural" if f.juxtapleural else ""
    return f"{f.type} nodule, mean diameter {f.mean_mm:g} mm{solid}, {f.timing}{extra}"


class LungRads(RadsFormula):
    system = "Lung-RADS"
    version = VERSION
    order = ("1", "2", "3", "4A", "4B")
    nothing_read = "no lung nodule described with its size and no statement that there is none"

    def applies(self, report: Report) -> bool:
        """Lung-RADS assesses lung cancer screening CTs only (other chest CTs follow Fleischner)."""
        return (report.modality == "CT" or bool(_LDCT.search(report.text))) and bool(_CONTEXT.search(report.text))

    def lesions(self, report: Report) -> list[Computed]:
        text, out = report.text, []
        for block in lesion_blocks(text, _NODULE, feature_spans(report), _SIZE_WORDS):
            _, sentence_end = sentence_bounds(text, block.noun_start, block.noun_end)
            right = min(block.end, sentence_end)
            site = site_words(text, SITES, block.start, right)
            features, missing = read_nodule(text, block)
            if features is None:
                cat, why = None, missing
            else:
                cat, why = category(features)
            described = describe(features) if features else missing
            out.append(Computed(self.system, self.version, cat, f"{described}{'; ' + why if why and cat is None else ''}",
                                Evidence(block.start + _lead(text, block.start), right), site[0] if site else None,
                                reason=(why or missing) if cat is None else None))
        return out

    def exam(self, report: Report, lesions: list[Computed]) -> Computed | None:
        """Category 1 when the report states there are no lung nodules; else the most suspicious nodule's."""
        if lesions:
            return super().exam(report, lesions)
        for start, end in feature_spans(report):
            for m in _NO_NODULES.finditer(report.text, start, end):
                if absent(report.text, m.start(), m.end()):
                    left, right = sentence_bounds(report.text, m.start(), m.end())
                    left = max(left, start)
                    return Computed(self.system, self.version, "1", "no lung nodules",
                                    Evidence(left + _lead(report.text, left), right))
        return None


def _lead(text: str, start: int) -> int:
    """Leading whitespace to skip so evidence starts at a word."""
    return len(text[start:]) - len(text[start:].lstrip(" \n\t,;"))
