"""ACR TI-RADS 2017 (Tessler et al., JACR 2017): the level of each thyroid nodule from its points for
composition, echogenicity, shape, margin and echogenic foci, with the white paper's size thresholds
for fine-needle aspiration (FNA) and follow-up.

Points: composition cystic / spongiform 0, mixed cystic and solid 1, solid 2; echogenicity anechoic 0,
hyper- or isoechoic 1, hypoechoic 2, very hypoechoic 3; shape wider-than-tall 0, taller-than-wide 3;
margin smooth / ill-defined 0, lobulated / irregular 2, extrathyroidal extension 3; echogenic foci
(added) none / large comet-tail 0, macrocalcifications 1, peripheral (rim) 2, punctate 3. A spongiform
nodule gets no further points. Levels: 0 TR1, 2 TR2, 3 TR3, 4-6 TR4, >= 7 TR5. Left open: a total of
1 point (the white paper assigns it no level), and a nodule whose composition, echogenicity or margin
the report does not state. Shape not stated counts as wider-than-tall and echogenic foci not stated
as none (reports name the suspicious forms); the features column says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radlite.evidence import Evidence
from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.measure import sizes
from radlite.rads_formulas.mentions import asserted, feature_spans, lesion_blocks
from radlite.report import Report
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import SIDE, site_words

VERSION = "ACR TI-RADS 2017"

#: (feature, points, pattern): first asserted match per feature wins, in this order.
COMPOSITION = (
    ("spongiform", 0, r"spongiform"),
    ("mixed cystic and solid", 1, r"mixed (?:cystic and solid|solid and cystic)|(?:partially|predominantly|partly) "
                                  r"(?:cystic|solid)|(?:cystic and solid|solid and cystic)|complex cystic"),
    ("solid", 2, r"(?:almost completely |entirely |completely |purely )?solid"),
    ("cystic", 0, r"(?:almost completely |entirely |completely |purely )?cystic|\bcyst\b"),
)
ECHOGENICITY = (
    ("very hypoechoic", 3, r"very hypoechoic|markedly hypoechoic|very hypo-echoic"),
    ("hypoechoic", 2, r"hypo-?echoic"),
    ("hyper- or isoechoic", 1, r"hyper-?echoic|iso-?echoic"),
    ("anechoic", 0, r"an-?echoic"),
)
SHAPE = (
    ("taller-than-wide", 3, r"taller[- ]than[- ]wide"),
    ("wider-than-tall", 0, r"wider[- ]than[- ]tall"),
)
MARGIN = (
    ("extrathyroidal extension", 3, r"extra-?\s?thyroidal (?:extension|invasion)"),
    ("lobulated or irregular", 2, r"lobulated|irregular"),
    ("smooth or ill-defined", 0, r"smooth|ill-?\s?defined|well-?\s?defined|circumscribed"),
)
FOCI = (
    ("punctate echogenic foci", 3, r"punctate (?:echogenic foci|calcifications?)|micro-?calcifications?"),
    ("peripheral (rim) calcification", 2, r"(?:peripheral|rim|eggshell) calcifications?"),
    ("macrocalcifications", 1, r"macro-?calcifications?|coarse calcifications?"),
    ("large comet-tail artifacts", 0, r"comet[- ]tail"),
)
_NO_FOCI = re.compile(r"\b(?:echogenic foci|calcifications?)\b", re.I)
#: FNA and follow-up thresholds (largest dimension, cm) per level, from the white paper.
THRESHOLDS_CM: dict[str, tuple[float, float]] = {"TR3": (2.5, 1.5), "TR4": (1.5, 1.0), "TR5": (1.0, 0.5)}


@dataclass(frozen=True)
class NodulePoints:
    """The lexicon term read for each feature (None: not stated) and the foci (added)."""

    composition: tuple[str, int] | None
    echogenicity: tuple[str, int] | None
    shape: tuple[str, int] | None
    margin: tuple[str, int] | None
    foci: tuple[tuple[str, int], ...] = ()


def level(points: int) -> str | None:
    """ACR TI-RADS level of a point total; None for 1 point (no level is defined for it)."""
    if points == 0:
        return "TR1"
    if points == 1:
        return None
    return "TR2" if points == 2 else "TR3" if points == 3 else "TR4" if points <= 6 else "TR5"


def total(f: NodulePoints) -> int:
    if f.composition and f.composition[0] == "spongiform":
        return 0
    return sum(v[1] for v in (f.composition, f.echogenicity, f.shape, f.margin) if v is not None) \
        + sum(p for _, p in f.foci)


def category(f: NodulePoints) -> tuple[str | None, str]:
    """(level, why) of one nodule; None with what is missing when the rules leave it open."""
    if f.composition is None:
        return None, "composition not stated"
    if f.composition[0] != "spongiform":
        echo = f.echogenicity or (("anechoic", 0) if f.composition[0] == "cystic" else None)
        if echo is None:
            return None, "echogenicity not stated"
        if f.margin is None and f.composition[0] != "cystic":
            return None, "margin not stated"
    points = total(f)
    found = level(points)
    return found, "" if found else "1 point: ACR TI-RADS 2017 defines no level for it"


def recommendation(tr: str, largest_cm: float | None) -> str:
    """FNA / follow-up / none by the white paper's size thresholds; '' without a size."""
    if largest_cm is None:
        return ""
    if tr not in THRESHOLDS_CM:
        return "no FNA"
    fna, follow = THRESHOLDS_CM[tr]
    return "FNA" if largest_cm >= fna else "follow-up" if largest_cm >= follow else "no FNA or follow-up"


def _first(table, text: str, start: int, end: int) -> tuple[str, int] | None:
    for term, points, pattern in table:
        for m in re.finditer(rf"\b(?:{pattern})\b", text[start:end], re.I):
            if asserted(text, start + m.start(), start + m.end()):
                return term, points
    return None


def read_points(text: str, start: int, end: int) -> NodulePoints:
    """The lexicon terms the nodule's description asserts (negated ones, "no calcifications", add none)."""
    foci = tuple(dict.fromkeys(f for f in (_first((row,), text, start, end) for row in FOCI) if f))
    return NodulePoints(_first(COMPOSITION, text, start, end), _first(ECHOGENICITY, text, start, end),
                        _first(SHAPE, text, start, end), _first(MARGIN, text, start, end), foci)


def describe(f: NodulePoints) -> str:
    parts = [f"{name} {term} ({points})" for name, value in (("composition", f.composition),
             ("echogenicity", f.echogenicity), ("shape", f.shape), ("margin", f.margin)) if value
             for term, points in [value]]
    if f.shape is None:
        parts.append("shape not stated: wider-than-tall (0)")
    parts.append("echogenic foci " + (", ".join(f"{t} ({p})" for t, p in f.foci) if f.foci else "none stated (0)"))
    return "; ".join(parts)


_NODULE = re.compile(r"\b(?:nodules?|lesions?)\b", re.I)
_INTRODUCES = re.compile(rf"\d\s*(?:mm|cm)\b|\b{SIDE} (?:thyroid )?lobe\b|\bisthmus\b", re.I)
SITES = re.compile(rf"\b{SIDE}\s+(?:thyroid\s+)?lobe\b|\bisthmus\b|\b(?:upper|mid|lower|inferior|superior)\s+"
                   r"pole\b|\bnodule\s*#?\s*\d+\b", re.I)
_CONTEXT = re.compile(r"thyroid", re.I)


class TiRads(RadsFormula):
    system = "TI-RADS"
    version = VERSION
    order = ("TR1", "TR2", "TR3", "TR4", "TR5")
    nothing_read = "no thyroid nodule described with its size or lobe"

    def applies(self, report: Report) -> bool:
        """ACR TI-RADS assesses thyroid nodules on ultrasound."""
        return report.modality == "US" and bool(_CONTEXT.search(report.text))

    def lesions(self, report: Report) -> list[Computed]:
        text, out = report.text, []
        for block in lesion_blocks(text, _NODULE, feature_spans(report), _INTRODUCES):
            points = read_points(text, block.start, block.end)
            tr, why = category(points)
            site = site_words(text, SITES, block.start, sentence_bounds(text, block.noun_start, block.noun_end)[1])
            found = sizes(text, block.start, block.end)
            largest = max(s.longest_mm for s in found) / 10 if found else None
            detail = describe(points)
            if tr is not None:
                detail += f"; {total(points)} points"
                advice = recommendation(tr, largest)
                detail += f"; {largest:g} cm: {advice}" if advice else ""
            else:
                detail += f"; {why}"
            start = block.start + len(text[block.start:block.end]) - len(text[block.start:block.end].lstrip())
            end = block.end - (len(text[block.start:block.end]) - len(text[block.start:block.end].rstrip()))
            out.append(Computed(self.system, self.version, tr, detail, Evidence(start, end),
                                site[0] if site else None, reason=why if tr is None else None))
        return out
