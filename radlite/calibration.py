"""Calibration maps that ship with a routing table: raw confidence score -> probability the value is right.

A map is the step function an isotonic regression fitted on real-text validation gold (``radlite train
calibrate``, training/calibrate.py): raw-score thresholds and the calibrated probability at each,
applied by linear interpolation (numpy.interp) between them, so a run needs no scikit-learn. A table
without a map keeps its raw score. The routing manifest names the file (``calibration``) and, per
table, the ``min_confidence`` below which a value is withheld for review (radlite.withholding).
"""

from __future__ import annotations

import functools
import json

import numpy as np
from pydantic import BaseModel, Field

from radlite.withholding import confidence_withheld


class CalibrationMap(BaseModel):
    """One table's map: raw scores ``x`` (ascending) and their calibrated probabilities ``y``."""

    x: list[float]
    y: list[float]
    #: (raw score, correct?) pairs it was fitted on, and what they are (gold file, split, rows)
    n: int
    basis: str
    #: expected calibration error on the pairs it was fitted on: before (raw) and after the map, and of
    #: maps fitted without each pair's fold (5-fold, out of fold: the honest figure)
    ece_raw: float | None = None
    ece: float | None = None
    ece_out_of_fold: float | None = None
    #: share of the pairs right, and the min_confidence chosen on them (training/calibrate.py) with the share
    #: of values it withholds and the share right of those it keeps (out of fold)
    right: float | None = None
    min_confidence: float | None = None
    withheld_share: float | None = None
    kept_right: float | None = None

    def apply(self, raw: float) -> float:
        return float(np.interp(raw, self.x, self.y))


class Calibration(BaseModel):
    """Every table's map, and how they were fitted (command, date)."""

    fitted_by: str = ""
    tables: dict[str, CalibrationMap] = Field(default_factory=dict)

    def confidence(self, table: str, raw: float | None) -> float | None:
        """The calibrated confidence of a raw score (None stays None; a table with no map keeps its raw score)."""
        if raw is None:
            return None
        return round(self.tables[table].apply(raw), 4) if table in self.tables else round(raw, 4)


@functools.cache
def load_calibration(path: str | None) -> Calibration:
    """The maps in ``path`` (a JSON Calibration); none (every raw score kept) without a path."""
    if not path:
        return Calibration()
    with open(path) as fh:
        return Calibration(**json.load(fh))


def calibrated_rows(rows: list[tuple[str, dict]], calibration: Calibration,
                    min_confidence: dict[str, float]) -> list[tuple[str, dict]]:
    """(table, row) pairs with each raw score replaced by its calibrated confidence, and a value below its
    table's ``min_confidence`` withheld. Applied once, where an entry's rows join their report."""
    out = []
    for table, row in rows:
        if "confidence" in row:
            row = confidence_withheld({**row, "confidence": calibration.confidence(table, row["confidence"])},
                                      min_confidence.get(table))
        out.append((table, row))
    return out
