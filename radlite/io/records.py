"""What a reader yields before validation, and the limits validation applies."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class SourceRecord:
    """One candidate report as read: raw bytes (files) or text (tabular rows), plus metadata."""

    source: str
    locator: str
    raw: bytes | str
    patient_id: str | None = None
    study_id: str | None = None
    study_date: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class IngestLimits(BaseModel):
    """Bounds that protect a run from hostile or broken input."""

    max_report_bytes: int = Field(default=256 * 1024, gt=0)
    #: An archive member that inflates beyond this many times its stored size is a compression bomb.
    max_compression_ratio: float = Field(default=100.0, gt=1)
