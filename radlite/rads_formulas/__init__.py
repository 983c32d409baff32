"""RADS categories computed from the features a report states, one module per system, registered once.

``FORMULAS`` maps a system (the canonical name of radlite.tasks.rads.SEVERITY) to its formula. Each
formula reads its features with evidence offsets (sizes, stenosis percentages, descriptor lexicons,
asserted by the assertion engine) and computes the category with a pure function of them, versioned
(``Computed.version``: "Lung-RADS v2022", "LI-RADS v2018", ...), or leaves it open with the reason.
docs/values.md ("Sources of the formulas") cites the published source of each.
"""

from __future__ import annotations

from radlite.rads_formulas import (
    bi_rads,
    cad_rads,
    formula,
    gb_rads,
    li_rads,
    lung_rads,
    measure,
    mentions,
    ni_rads,
    o_rads,
    pi_rads,
    ti_rads,
    vi_rads,
)
from radlite.rads_formulas.bi_rads import BiRads
from radlite.rads_formulas.cad_rads import CadRads
from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.gb_rads import GbRads
from radlite.rads_formulas.li_rads import LiRads
from radlite.rads_formulas.lung_rads import LungRads
from radlite.rads_formulas.ni_rads import NiRads
from radlite.rads_formulas.o_rads import ORads
from radlite.rads_formulas.pi_rads import PiRads
from radlite.rads_formulas.ti_rads import TiRads
from radlite.rads_formulas.vi_rads import ViRads
from radlite.report import Report

FORMULAS: dict[str, RadsFormula] = {f.system: f for f in (
    LungRads(), CadRads(), TiRads(), LiRads(), ORads(), PiRads(), ViRads(), BiRads(), NiRads(), GbRads())}
#: The modules whose source is the formulas (hashed into the rules' model_id).
MODULES = (formula, measure, mentions, lung_rads, cad_rads, ti_rads, li_rads, o_rads, pi_rads, vi_rads, bi_rads,
           ni_rads, gb_rads)


def computed_for(report: Report) -> list[tuple[Computed, list[Computed]]]:
    """For each formula that applies to the report: (exam-level category, per-lesion categories). The
    exam-level one is open (category None, with the reason) when the report describes nothing the
    formula computes from."""
    out = []
    for system in FORMULAS.values():
        if system.applies(report):
            lesions = system.lesions(report)
            out.append((system.exam(report, lesions) or system.unread(), lesions))
    return out


__all__ = ["FORMULAS", "MODULES", "Computed", "RadsFormula", "computed_for"]
