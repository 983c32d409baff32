"""Sized lesions a report names: "8 mm solid nodule in the right upper lobe", "liver lesion measuring 1.2 cm".

A lesion is named by its kind and, when the sentence gives one, its location ("nodule right upper
lobe"): the name is how a lesion is followed from one study to the next. The size is the largest
dimension in millimetres. Only finding sections are read; a size stated as the past ("previously
6 mm", "from 6 mm") is not the study's own measurement.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.sections import section_bodies

KINDS = r"nodules?|mass(?:es)?|lesions?|cysts?|lymph nodes?|tumou?rs?"
_SIZE = (r"(?P<size>\d+(?:\.\d+)?(?:\s*(?:x|by|×)\s*\d+(?:\.\d+)?)*)\s*"
         r"(?P<unit>mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b")
_ADJ = r"(?:[a-z-]+\s+){0,3}?"
_PLACE = (r"(?:\s+(?:in|within|of|at)\s+(?:the\s+)?(?P<place>(?:(?:right|left|bilateral|upper|middle|lower|inferior|"
          r"superior|anterior|posterior|medial|lateral|apical|lingular|hepatic)\s+)*(?:lobe|lung|lingula|liver|"
          r"kidney|breast|thyroid|pancreas|adrenal|spleen|segment\s+\w+|[a-z]+ lobe)))?")
_LOBE = (r"(?P<lobe>\b(?:RUL|RML|RLL|LUL|LLL|(?:right|left)\s+(?:upper|middle|lower)\s+lobe|liver|hepatic|renal|"
         r"kidney|thyroid|adrenal|pancreatic|breast))\s+")
#: "8 mm nodule in the right upper lobe", "right upper lobe 8 mm nodule"
_SIZE_FIRST = re.compile(rf"(?:{_LOBE})?{_SIZE}\s+{_ADJ}(?P<kind>{KINDS})\b{_PLACE}", re.I)
#: "nodule in the right upper lobe measuring 8 mm", "the right upper lobe nodule now measures 9 mm"
_KIND_FIRST = re.compile(rf"(?:{_LOBE})?{_ADJ}(?P<kind>{KINDS})\b{_PLACE}[^.;\n]{{0,40}}?\b(?:measur\w*|size of|"
                         rf"sized?|up to)\s+(?:approximately\s+|about\s+|up to\s+)?{_SIZE}", re.I)
_PAST = re.compile(r"(?:previously|prior(?:ly)?|formerly|from|was|were|compared to|versus|vs\.?)\s*(?:\(\s*)?"
                   r"(?:measur\w*\s+)?$", re.I)
_ABBREVIATIONS = {"hepatic": "liver", "renal": "kidney", "pancreatic": "pancreas",
                  "rul": "right upper lobe", "rml": "right middle lobe", "rll": "right lower lobe",
                  "lul": "left upper lobe", "lll": "left lower lobe"}
_SINGULAR = {"nodules": "nodule", "masses": "mass", "lesions": "lesion", "cysts": "cyst", "lymph nodes": "lymph node",
             "tumors": "tumor", "tumours": "tumor", "tumour": "tumor"}


class Lesion(NamedTuple):
    """One sized lesion: its name (kind and location), largest size in mm, and where it is stated."""

    name: str
    size_mm: float
    start: int
    end: int


def size_mm(size: str, unit: str) -> float:
    """Largest dimension of "8", "1.2 x 0.9" in millimetres."""
    largest = max(float(v) for v in re.split(r"\s*(?:x|by|×)\s*", size.strip(), flags=re.I))
    return round(largest * (10.0 if unit.lower().startswith("c") else 1.0), 2)


def lesion_name(kind: str, place: str | None, lobe: str | None) -> str:
    """"nodule right upper lobe": the kind, singular, and where (abbreviations spelt out)."""
    kind = _SINGULAR.get(kind.lower(), kind.lower())
    where = (lobe or place or "").lower()
    where = " ".join(_ABBREVIATIONS.get(where, where).split())
    return f"{kind} {where}".strip()


def sized_lesions(text: str) -> list[Lesion]:
    """The report's sized lesions in text order, each name once (its first statement)."""
    found: dict[str, Lesion] = {}
    for start, end, section in section_bodies(text):
        if section not in ("findings", "impression", "other"):
            continue
        for pattern in (_SIZE_FIRST, _KIND_FIRST):
            for m in pattern.finditer(text, start, end):
                if _PAST.search(text[max(start, m.start("size") - 30):m.start("size")]):
                    continue
                name = lesion_name(m.group("kind"), m.group("place"), m.group("lobe"))
                lesion = Lesion(name, size_mm(m.group("size"), m.group("unit")), m.start(), m.end())
                if name not in found or lesion.start < found[name].start:
                    found[name] = lesion
    return sorted(found.values(), key=lambda lesion: lesion.start)
