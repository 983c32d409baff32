"""Rejected input records: errors as values, one row each, nothing silently lost."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, field_validator

from radlite.hashing import stable_id


def printable(text: str) -> str:
    """``text`` with undecodable bytes (surrogate escapes) and lone surrogates written as backslash escapes."""
    if not has_surrogates(text):
        return text
    return text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "backslashreplace").decode(
        "utf-8", "backslashreplace")


def has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _only_escapes(text: str) -> bool:
    return all(not ("\ud800" <= ch <= "\udfff") or "\udc80" <= ch <= "\udcff" for ch in text)


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
    CORRUPT_MEMBER = "corrupt_member"
    ENCRYPTED_MEMBER = "encrypted_member"
    UNSUPPORTED_COMPRESSION = "unsupported_compression"
    BAD_FILENAME = "bad_filename"
    NOT_A_REGULAR_FILE = "not_a_regular_file"
    BAD_TYPE = "bad_type"
    #: An id, file name or metadata value with control or invisible characters, or over-long.
    BAD_ID = "bad_id"
    #: HL7 v2 input (radlite.io.hl7): a message with no MSH, not an ORU^R01, an order with no text OBX,
    #: unusable MSH-1/MSH-2 encoding characters, an earlier version of a result replaced by a later one
    #: of the run, an order that is not radiology (OBR-24), or a character set (MSH-18) that is unknown
    #: or does not decode the bytes.
    HL7_NO_MSH = "hl7_no_msh"
    HL7_WRONG_MESSAGE_TYPE = "hl7_wrong_message_type"
    HL7_NO_TEXT = "hl7_no_text"
    HL7_BAD_ENCODING = "hl7_bad_encoding"
    HL7_SUPERSEDED = "hl7_superseded"
    HL7_NOT_RADIOLOGY = "hl7_not_radiology"
    HL7_BAD_CHARSET = "hl7_bad_charset"


class Reject(BaseModel):
    """One input record that was refused, with where it came from and why."""

    model_config = ConfigDict(frozen=True)

    source: str
    locator: str
    reason: RejectReason
    message: str
    #: How many earlier rejects of the same input had this locator and reason (radlite.io.readers).
    occurrence: int = 0

    @field_validator("source", "locator", "message")
    @classmethod
    def _storable(cls, value: str) -> str:
        """Names read from disk may carry undecodable bytes (as surrogates); store them escaped."""
        return printable(value)

    @property
    def reject_id(self) -> str:
        """Stable id so that a rerun over the same bad input adds no new reject row; a repeated reject
        (same locator and reason) is told apart by its occurrence number."""
        if self.occurrence:
            return stable_id(self.source, self.locator, self.reason.value, str(self.occurrence))
        return stable_id(self.source, self.locator, self.reason.value)
