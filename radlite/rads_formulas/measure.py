"""Sizes as reports write them ("7 mm", "1.2 x 0.9 cm", "12 x 8 x 9 mm", "7-mm"), in millimetres."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

_NUMBER = r"\d+(?:\.\d+)?"
_SIZE = re.compile(rf"(?P<dims>{_NUMBER}(?:\s*(?:x|×|by)\s*{_NUMBER}){{0,2}})\s*-?\s*"
                   r"(?P<unit>mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b", re.I)
_GROWTH = re.compile(rf"(?:increased|grown|enlarged|progressed)\s+(?:in\s+size\s+)?from\s+(?P<prior>{_NUMBER})\s*"
                     r"(?P<unit>mm|cm)?\s+to\s+", re.I)


class Size(NamedTuple):
    """One measurement: its dimensions in mm and where it is written."""

    dims_mm: tuple[float, ...]
    start: int
    end: int

    @property
    def longest_mm(self) -> float:
        return max(self.dims_mm)

    @property
    def mean_mm(self) -> float:
        """Mean of the long and short axis (the first two dimensions), rounded to 0.1 mm (Lung-RADS v2022)."""
        axes = sorted(self.dims_mm, reverse=True)[:2]
        return round_tenth(sum(axes) / len(axes))


def round_tenth(value: float) -> float:
    """Half-up rounding to one decimal place (5.95 -> 6.0), as the published size rules are read."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _to_mm(value: str, unit: str) -> float:
    return float(value) * (10 if unit.lower().startswith("c") else 1)


def sizes(text: str, start: int = 0, end: int | None = None) -> list[Size]:
    """Every measurement in text[start:end], offsets into ``text``."""
    found = []
    for m in _SIZE.finditer(text, start, len(text) if end is None else end):
        values = re.split(r"\s*(?:x|×|by)\s*", m.group("dims"), flags=re.I)
        found.append(Size(tuple(_to_mm(v, m.group("unit")) for v in values), m.start(), m.end()))
    return found


def prior_size_mm(text: str, size: Size) -> float | None:
    """The earlier size in "increased from 5 to 7 mm" written just before ``size``; None if none."""
    window_start = max(0, size.start - 60)
    matches = list(_GROWTH.finditer(text, window_start, size.start))
    last = matches[-1] if matches else None
    if last is None or last.end() != size.start:
        return None
    unit = last.group("unit") or text[size.start:size.end].rstrip()[-2:]
    return _to_mm(last.group("prior"), unit)
