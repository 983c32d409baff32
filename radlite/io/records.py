"""What a reader yields before validation, and the limits validation applies."""

from __future__ import annotations

from dataclasses import dataclass

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
    #: Exam description from a column of the export (--exam-column), when the text has no exam line.
    exam: str | None = None
    #: The user's modality for reports whose modality cannot be inferred (--modality).
    modality: str | None = None
    #: The result's status in FHIR DiagnosticReport.status words, when the source says (HL7 OBR-25).
    result_status: str | None = None


class IngestLimits(BaseModel):
    """Bounds that protect a run from hostile or broken input."""

    max_report_bytes: int = Field(default=256 * 1024, gt=0, description="Larger reports are rejected (too_large).")
    max_compression_ratio: float = Field(
        default=100.0, gt=1, description="An oversized archive member that inflates more than this many "
                                         "times its stored size is rejected as compression_bomb.")
