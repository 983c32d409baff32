"""The contract every computed-RADS system fulfils: read features from a report, compute categories.

A system module (lung_rads.py, cad_rads.py, ti_rads.py) holds its own lexicon, a feature reader with
evidence offsets, and a pure function from features to category; it subclasses ``RadsFormula`` and
is registered once in ``radlite.rads_formulas.FORMULAS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from radlite.evidence import Evidence
from radlite.report import Report


@dataclass(frozen=True)
class Computed:
    """A category computed from stated features, or left open (``category`` None) with the reason.

    ``features`` says what was read ("solid nodule, 8.0 mm, baseline") or why no category is given;
    ``evidence`` spans the words the features come from; ``site`` names the lesion or site when the
    report gives words for it ("right upper lobe", "nodule 2")."""

    system: str
    version: str
    category: str | None
    features: str
    evidence: Evidence
    site: str | None = None



class RadsFormula:
    """One system's computed categories. Subclasses set ``system`` (the canonical name of
    radlite.tasks.rads.SEVERITY), ``version`` and ``order``: the categories they compute, least
    suspicious first."""

    system: str = ""
    version: str = ""
    order: tuple[str, ...] = ()

    def applies(self, report: Report) -> bool:
        """Whether the report is an exam this system assesses (lung screening CT, coronary CTA, ...)."""
        raise NotImplementedError

    def lesions(self, report: Report) -> list[Computed]:
        """One computed (or open) category per lesion, vessel tree or site the report describes."""
        raise NotImplementedError

    def exam(self, report: Report, lesions: list[Computed]) -> Computed | None:
        """The exam-level category: the most suspicious lesion's. Left open when any lesion is open (an
        open lesion could be the most suspicious one); None when no lesion was read."""
        if not lesions:
            return None
        open_ = [c for c in lesions if c.category is None]
        if open_:
            return Computed(self.system, self.version, None, f"left open: {open_[0].features}", open_[0].evidence)
        top = max(lesions, key=lambda c: self.order.index(c.category))
        return Computed(self.system, self.version, top.category, top.features, top.evidence, top.site)
