"""Rejected input records: errors as values, one row each, nothing silently lost."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict

from radlite.hashing import stable_id


class RejectReason(str, Enum):
    """Why an input record did not become a report. Values are the codes stored in ``rejects``."""

    NOT_UTF8 = "not_utf8"
    EMPTY = "empty"
    BINARY = "binary"
    TOO_LARGE = "too_large"
    COMPRESSION_BOMB = "compression_bomb"
    UNSAFE_PATH = "unsafe_path"
    MALFORMED_CSV_ROW = "malformed_csv_row"
    MALFORMED_JSONL = "malformed_jsonl"
    MISSING_FIELD = "missing_field"
    DUPLICATE_ID = "duplicate_id"
    NOT_A_REPORT = "not_a_report"
    UNREADABLE_INPUT = "unreadable_input"


class Reject(BaseModel):
    """One input record that was refused, with where it came from and why."""

    model_config = ConfigDict(frozen=True)

    source: str
    locator: str
    reason: RejectReason
    message: str

    @property
    def reject_id(self) -> str:
        """Stable id so that a rerun over the same bad input adds no new reject row."""
        return stable_id(self.source, self.locator, self.reason.value)
