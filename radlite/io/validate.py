"""Turn a raw SourceRecord into an accepted Report or a Reject with a reason code."""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator

from radlite.hashing import stable_id
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.io.readers import read_input
from radlite.io.records import IngestLimits, SourceRecord
from radlite.rejects import Reject, RejectReason, has_surrogates
from radlite.report import Report, build_report

_TEXT_CONTROLS = {9, 10, 12, 13}

#: Longest id, file name or metadata value accepted: a locator is stored in every row of a report.
MAX_ID_CHARS = 1024

#: Characters an id or file name may not hold: controls, and the invisible ones that make two
#: different ids look the same or reorder what is shown (bidi embeddings, overrides, isolates;
#: zero-width space, word joiner, byte-order mark).
_HIDDEN_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]")

#: Stray controls left in accepted text (line breaks and tabs excepted) become spaces.
_STRAY_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def looks_binary(data: bytes | str) -> bool:
    """NUL bytes anywhere, or many control characters in the first 4 KiB (of text: of its UTF-8, encoding
    only its head), mean this is not a text report."""
    if isinstance(data, str):
        if "\x00" in data:
            return True
        head = data[:4096].encode("utf-8")[:4096]
    else:
        if b"\x00" in data:
            return True
        head = data[:4096]
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return bool(head) and controls / len(head) > 0.05


def decode_text(raw: bytes) -> str:
    """Report bytes as text: UTF-8 (a byte-order mark dropped), or UTF-16 when a UTF-16 BOM says so
    (Windows "Unicode" text). Raises UnicodeDecodeError."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    return raw.decode("utf-8").removeprefix("\ufeff")


def normalise_text(text: str) -> str:
    """One line-ending convention (CRLF and lone CR become LF: the section parser reads lines), and
    stray control characters as spaces, so every reader hands the same text on."""
    return _STRAY_CONTROLS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def is_blank(text: str) -> bool:
    """Nothing but whitespace and invisible format characters (zero-width space, byte-order mark)."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc") for ch in text)


def bad_id(value: str) -> str | None:
    """Why an id, file name or metadata value cannot name a report, or None when it can."""
    if len(value) > MAX_ID_CHARS:
        return f"{len(value)} characters, more than {MAX_ID_CHARS}"
    if found := _HIDDEN_IN_ID.search(value):
        return f"holds the control or invisible character U+{ord(found.group()):04X}"
    return None


def _short_locator(locator: str) -> str:
    """A locator fit to store in a reject row: an over-long one cut, with a hash to keep it unique."""
    if len(locator) <= MAX_ID_CHARS:
        return locator
    return f"{locator[:200]}...(sha256:{stable_id(locator)[:16]})"


def validate_record(record: SourceRecord, limits: IngestLimits) -> Report | Reject:
    """Decode, bound and parse one record; every failure is a Reject, never an exception."""

    def reject(reason: RejectReason, message: str) -> Reject:
        return Reject(source=record.source, locator=_short_locator(record.locator), reason=reason, message=message)

    raw = record.raw
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > limits.max_report_bytes:
        return reject(RejectReason.TOO_LARGE, f"more than max_report_bytes={limits.max_report_bytes} bytes")
    if isinstance(raw, bytes):
        try:
            text = decode_text(raw)
        except UnicodeDecodeError as exc:
            if looks_binary(raw):
                return reject(RejectReason.BINARY, "content is binary (NUL or control bytes)")
            return reject(RejectReason.NOT_UTF8, f"invalid {exc.encoding.upper()} at byte {exc.start}")
    else:
        text = raw
    names = (record.locator, record.patient_id or "", record.study_id or "", record.study_date or "")
    if any(has_surrogates(v) for v in (text, *names)):
        return reject(RejectReason.NOT_UTF8, "text or id holds bytes that are not UTF-8 (or a lone surrogate)")
    if looks_binary(text):
        return reject(RejectReason.BINARY, "content is binary (NUL or control characters)")
    if problem := next((f"{value[:40]!r}...: {why}" for value in names if (why := bad_id(value))), None):
        return reject(RejectReason.BAD_ID, f"id, file name or metadata value {problem}")
    if is_blank(text):
        return reject(RejectReason.EMPTY, "report is empty or whitespace only (invisible characters included)")
    text = normalise_text(text)
    return build_report(record.source, record.locator, text, patient_id=record.patient_id,
                        study_id=record.study_id, study_date=record.study_date, exam=record.exam,
                        modality=record.modality, result_status=record.result_status)


def accepted_reports(paths: list[str], limits: IngestLimits | None = None) -> Iterator[Report]:
    """The Reports the pipeline would accept from ``paths`` (rejects skipped): for tools outside Beam."""
    limits = limits or IngestLimits()
    for spec in expand_inputs(paths, None, ColumnMapping()):
        for item in read_input(spec, limits):
            if isinstance(item, SourceRecord):
                report = validate_record(item, limits)
                if isinstance(report, Report):
                    yield report
