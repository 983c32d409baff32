"""RADS categories computed from the features a report states, one module per system, registered once.

``FORMULAS`` maps a system (the canonical name of radlite.tasks.rads.SEVERITY) to its formula. Each
formula reads its features with evidence offsets (sizes, stenosis percentages, descriptor lexicons,
asserted by the assertion engine) and computes the category with a pure function of them, versioned
(``Computed.version``: "Lung-RADS v2022", "CAD-RADS 2.0", "ACR TI-RADS 2017"). docs/values.md
("Computed RADS categories") lists the sources and where a category is left open.
"""

from __future__ import annotations

from radlite.rads_formulas import cad_rads, formula, lung_rads, measure, mentions, ti_rads
from radlite.rads_formulas.cad_rads import CadRads
from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.lung_rads import LungRads
from radlite.rads_formulas.ti_rads import TiRads
from radlite.report import Report

FORMULAS: dict[str, RadsFormula] = {f.system: f for f in (LungRads(), CadRads(), TiRads())}
#: The modules whose source is the formulas (hashed into the rules' model_id).
MODULES = (formula, measure, mentions, lung_rads, cad_rads, ti_rads)


def computed_for(report: Report) -> list[tuple[Computed | None, list[Computed]]]:
    """For each formula that applies to the report: (exam-level category or None, per-lesion categories)."""
    out = []
    for system in FORMULAS.values():
        if system.applies(report):
            lesions = system.lesions(report)
            out.append((system.exam(report, lesions), lesions))
    return out


__all__ = ["FORMULAS", "MODULES", "Computed", "RadsFormula", "computed_for"]
