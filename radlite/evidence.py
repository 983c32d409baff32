"""Evidence: where in a report's text a value comes from, and the row columns that say so."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """Where in ``reports.text`` a value comes from: [start, end), or start None when the value was
    looked for and not found (the row is kept with grounded = false)."""

    start: int | None = None
    end: int | None = None

    @property
    def grounded(self) -> bool:
        return self.start is not None

    def columns(self, text: str) -> dict:
        """The evidence columns of a row."""
        quote = text[self.start:self.end] if self.grounded else None
        return {"evidence_start": self.start, "evidence_end": self.end, "evidence": quote, "grounded": self.grounded}


#: The evidence columns of a row whose value claims nothing to point at ("not mentioned", no RADS).
NO_EVIDENCE_CLAIMED = {"evidence_start": None, "evidence_end": None, "evidence": None, "grounded": None}


def evidence_columns(evidence: Evidence | None, text: str) -> dict:
    return evidence.columns(text) if evidence is not None else dict(NO_EVIDENCE_CLAIMED)
