"""The contract every computed-RADS system fulfils: read features from a report, compute categories.

A system module (lung_rads.py, li_rads.py, ...) holds its own lexicon, a feature reader with evidence
offsets, and a pure function from features to category; it subclasses ``RadsFormula`` and is
registered once in ``radlite.rads_formulas.FORMULAS``. A category the stated features do not fix is
left open with its ``reason``, never guessed: ``settled`` computes a table over every value an
unstated feature could take and keeps the category only when they all agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

from radlite.evidence import Evidence
from radlite.report import Report


@dataclass(frozen=True)
class Computed:
    """A category computed from stated features, or left open (``category`` None) with the reason.

    ``features`` says what was read ("solid nodule, 8.0 mm, baseline") or why no category is given;
    ``evidence`` spans the words the features come from; ``site`` names the lesion or site when the
    report gives words for it ("right upper lobe", "nodule 2"); ``reason``: why ``category`` is None
    ("arterial phase enhancement not stated")."""

    system: str
    version: str
    category: str | None
    features: str
    evidence: Evidence
    site: str | None = None
    reason: str | None = None

    @property
    def computed_reason(self) -> str | None:
        """The rads.computed_reason value: the system and why no category ("LI-RADS: washout not stated")."""
        if self.category is not None:
            return None
        return f"{self.system}: {self.reason or self.features}"


def settled(table: Callable[..., str | None], stated: dict[str, object],
            unstated: dict[str, tuple]) -> tuple[str | None, str]:
    """(category, reason): ``table(**stated, **unstated values)`` when every value the ``unstated``
    features could take gives the same category; else None and the unstated features whose value
    changes it ("washout not stated")."""
    names = list(unstated)
    outcomes = {values: table(**stated, **dict(zip(names, values, strict=True)))
                for values in product(*unstated.values())}
    if len(set(outcomes.values())) == 1:
        return next(iter(outcomes.values())), ""
    deciding = [name for i, name in enumerate(names)
                if any(outcomes[v] != outcomes[v[:i] + (w,) + v[i + 1:]] for v in outcomes for w in unstated[name])]
    return None, " and ".join(n.replace("_", " ") for n in deciding) + " not stated"


class RadsFormula:
    """One system's computed categories. Subclasses set ``system`` (the canonical name of
    radlite.tasks.rads.SEVERITY), ``version`` and ``order``: the categories they compute, least
    suspicious first."""

    system: str = ""
    version: str = ""
    order: tuple[str, ...] = ()
    #: Why no category when the system applies but no lesion with its features is described.
    nothing_read: str = "no lesion described with its features"

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
            return Computed(self.system, self.version, None, f"left open: {open_[0].features}", open_[0].evidence,
                            reason=open_[0].reason or open_[0].features)
        top = max(lesions, key=lambda c: self.order.index(c.category))
        return top

    def unread(self) -> Computed:
        """The exam-level answer when the system applies but the report describes nothing it computes from."""
        return Computed(self.system, self.version, None, self.nothing_read, Evidence(), reason=self.nothing_read)
