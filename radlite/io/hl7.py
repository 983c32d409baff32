"""HL7 v2 ``ORU^R01`` result messages as report records: the RIS's own export format.

A file holds one message or a batch: messages one after another, optionally MLLP-framed (``<VT>``
before, ``<FS><CR>`` after each) and optionally wrapped in ``FHS``/``BHS`` ... ``BTS``/``FTS``
segments. Segments may end in ``\\r`` (the standard), ``\\n`` or ``\\r\\n`` (archives written by
interface engines and editors). A message starts at ``MSH``, at an MLLP start byte or after a
blank line or a batch segment.

Each ``ORU^R01`` becomes one record (HL7 v2.5.1 chapter 7):

==================  =============================================================================
report text         OBX-5 of every OBX whose OBX-2 value type is TX, FT or ST, in order, one line
                    each (repetitions too), escape sequences decoded (``\\.br\\``, ``\\F\\``, ``\\S\\``,
                    ``\\T\\``, ``\\R\\``, ``\\E\\``, ``\\Xhh..\\``); OBX-11 ``D``/``W`` (deleted, wrong) are left out
locator             ``OBR-3=<id>[^<namespace>]``, else ``OBR-2=...``, else ``MSH-10=...``
patient_id          PID-3, first identifier (CX.1)
study_id            the accession: OBR-3.1 (else OBR-2.1)
study_date          OBR-7 (observation date/time) as an ISO date
exam                OBR-4 text (CE.2), else its code (CE.1): feeds modality and body-region detection
==================  =============================================================================

Several messages for one accession in a file (a preliminary then a final report, a final then a
corrected one, OBR-25 ``P``/``F``/``C``): the last final or corrected one (the last one if none
is) is the record; the others are ``hl7_superseded`` rejects naming it. Across runs a corrected
message replaces the earlier version through the run's incremental mechanism (same report_id,
new text), and the ``*_history`` views keep the old one.

Every message that cannot be a report is a ``Reject`` with an ``hl7_*`` reason and the rest of
the file is read. Parsing of segments, fields and escapes is python-hl7's (``hl7``); framing,
line endings, the checks above and the mapping are ours (docs/standards.md says why).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import hl7

from radlite.io.inputs import InputSpec
from radlite.io.records import IngestLimits, SourceRecord
from radlite.rejects import Reject, RejectReason

TEXT_VALUE_TYPES = ("TX", "FT", "ST")
#: OBX-11 result statuses whose value is not part of the report (HL7 table 0085).
LEFT_OUT_OBX_STATUS = ("D", "W")
#: OBR-25 result statuses that make a message the version to keep (HL7 table 0123).
FINAL_STATUSES = ("F", "C")
_BATCH_SEGMENTS = (b"FHS", b"BHS", b"BTS", b"FTS")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_MLLP_START, _MLLP_END = b"\x0b", b"\x1c"
#: Formatting escapes (\.br\, \.sp\, \.ce\ line breaks; highlighting marks dropped) for report text.
_TEXT_ESCAPES = {".br": "\n", ".sp": "\n", ".ce": "\n", ".in": "", ".ti": "", ".sk": " ", "H": "", "N": ""}


@dataclass
class RawMessage:
    """The segments of one message as read, before decoding; ``number`` counts messages from 1."""

    number: int
    segments: list[bytes] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class OruReport:
    """What one ORU^R01 message says about its report (see the module docstring for the fields)."""

    locator: str
    accession: str | None
    text: str
    patient_id: str | None
    study_date: str | None
    exam: str | None
    result_status: str


def _lines(fh, chunk_size: int = 1 << 20, max_line: int = 1 << 24) -> Iterator[bytes]:
    """The file's lines, whatever the line ending; a blank line comes back as ``b""``. A line longer than
    ``max_line`` is cut there (its message is then too large), so memory stays bounded."""
    pending = b""
    while data := fh.read(chunk_size):
        buffer = pending + data
        cut = len(buffer) - 1 if buffer.endswith(b"\r") else len(buffer)  # "\r" may open a "\r\n"
        parts = _LINE_BREAK.split(buffer[:cut])
        pending = parts.pop() + buffer[cut:]
        yield from parts
        if len(pending) > max_line:
            yield pending
            pending = b""
    if pending:
        yield from _LINE_BREAK.split(pending)


def split_messages(fh, max_bytes: int) -> Iterator[RawMessage]:
    """Messages of a file (one, a batch, MLLP-framed or not), in order. Segments past ``max_bytes`` are
    not kept (the message's ``size`` still counts them)."""
    number = 0
    current: RawMessage | None = None
    for line in _lines(fh):
        starts = line.startswith(_MLLP_START)
        ends = _MLLP_END in line
        line = line.replace(_MLLP_START, b"").replace(_MLLP_END, b"").strip(b" \t")
        if starts or not line or line.startswith(_BATCH_SEGMENTS) or line.startswith(b"MSH"):
            if current is not None:
                yield current
                current = None
        if line and not line.startswith(_BATCH_SEGMENTS):
            if current is None:
                number += 1
                current = RawMessage(number)
            current.size += len(line) + 1
            if current.size <= max_bytes:
                current.segments.append(line)
        if ends and current is not None:
            yield current
            current = None
    if current is not None:
        yield current


class MessageError(ValueError):
    """A message that cannot be a report; ``reason`` is the reject code."""

    def __init__(self, reason: RejectReason, message: str):
        super().__init__(message)
        self.reason = reason


def _check_encoding_characters(msh: str) -> None:
    """MSH-1 (field separator) and MSH-2 (component, repetition, escape, subcomponent: four distinct
    punctuation characters, v2.7's truncation character allowed) as HL7 v2.5.1 section 2.5.4 needs them."""
    if len(msh) < 8:
        raise MessageError(RejectReason.HL7_BAD_ENCODING, "MSH is too short to hold its encoding characters")
    separator = msh[3]
    encoding = msh[4:].split(separator, 1)[0]
    characters = separator + encoding
    if (len(encoding) not in (4, 5) or len(set(characters)) != len(characters)
            or any(c.isalnum() or c.isspace() for c in characters)):
        raise MessageError(RejectReason.HL7_BAD_ENCODING,
                           f"MSH-1/MSH-2 encoding characters {characters!r} are not 5 distinct punctuation marks")


def _field(segment, index: int) -> str:
    """Field ``index`` of a segment as its raw (still escaped) string; empty when the segment is shorter."""
    return str(segment[index]) if len(segment) > index else ""


def _component(message, raw: str, index: int) -> str:
    """Component ``index`` (1-based) of the first repetition of a raw field, unescaped and stripped."""
    repetition = raw.split(message.separators[2], 1)[0]
    parts = repetition.split(message.separators[3])
    return message.unescape(parts[index - 1]).strip() if len(parts) >= index else ""


def _segments(message, name: str) -> list:
    return [s for s in message if str(s[0]) == name]


def _iso_date(value: str) -> str | None:
    """``YYYYMMDD[hhmm...]`` (HL7 DTM) as ``YYYY-MM-DD``; None when it is not a date."""
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})[\d.+-]*", value)
    if not m or not ("01" <= m.group(2) <= "12" and "01" <= m.group(3) <= "31"):
        return None
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"


def _report_text(message) -> str:
    """OBX-5 of the text-typed OBX segments, one line per OBX and per repetition, escapes decoded."""
    lines: list[str] = []
    for obx in _segments(message, "OBX"):
        if _field(obx, 2) not in TEXT_VALUE_TYPES or _field(obx, 11) in LEFT_OUT_OBX_STATUS:
            continue
        for repetition in _field(obx, 5).split(message.separators[2]):
            lines.append(message.unescape(repetition, app_map=_TEXT_ESCAPES).replace("\r", "\n"))
    return "\n".join(lines).strip("\n")


def _locator(message, obr, msh) -> tuple[str, str | None]:
    """(locator, accession): OBR-3 (filler order number with its namespace), else OBR-2, else MSH-10."""
    for name, raw in (("OBR-3", _field(obr, 3) if obr else ""), ("OBR-2", _field(obr, 2) if obr else "")):
        identifier, namespace = _component(message, raw, 1), _component(message, raw, 2)
        if identifier:
            return f"{name}={identifier}" + (f"^{namespace}" if namespace else ""), identifier
    control = _component(message, _field(msh, 10), 1)
    if control:
        return f"MSH-10={control}", None
    raise MessageError(RejectReason.MISSING_FIELD, "no OBR-3, OBR-2 or MSH-10 to identify the report")


def parse_oru(text: str) -> OruReport:
    """The report one decoded message carries; raises MessageError with the reject reason."""
    segments = [s for s in text.split("\r") if s]
    if not segments or not segments[0].startswith("MSH"):
        raise MessageError(RejectReason.HL7_NO_MSH,
                           f"message starts with {segments[0][:3]!r}, not MSH" if segments else "empty message")
    _check_encoding_characters(segments[0])
    try:
        message = hl7.parse("\r".join(segments))
    except (ValueError, IndexError, KeyError) as exc:
        raise MessageError(RejectReason.HL7_BAD_ENCODING, f"cannot parse: {type(exc).__name__}: {exc}") from None
    msh = message.segment("MSH")
    kind = (_component(message, _field(msh, 9), 1), _component(message, _field(msh, 9), 2))
    if kind != ("ORU", "R01"):
        raise MessageError(RejectReason.HL7_WRONG_MESSAGE_TYPE,
                           f"message type {'^'.join(kind) or 'missing'} is not ORU^R01 (MSH-9)")
    obrs, pids = _segments(message, "OBR"), _segments(message, "PID")
    obr = obrs[0] if obrs else None
    locator, accession = _locator(message, obr, msh)
    report_text = _report_text(message)
    if not report_text.strip():
        raise MessageError(RejectReason.HL7_NO_TEXT, "no OBX segment of value type TX, FT or ST holds text")
    exam = None
    if obr is not None:
        exam = _component(message, _field(obr, 4), 2) or _component(message, _field(obr, 4), 1) or None
    return OruReport(
        locator=locator, accession=accession, text=report_text,
        patient_id=_component(message, _field(pids[0], 3), 1) or None if pids else None,
        study_date=_iso_date(_component(message, _field(obr, 7), 1)) if obr is not None else None,
        exam=exam,
        result_status=_component(message, _field(obr, 25), 1).upper() if obr is not None else "")


def _decode(raw: RawMessage, limits: IngestLimits) -> str:
    """The message as text with ``\\r`` segment terminators; raises MessageError when too large or not UTF-8."""
    if raw.size > limits.max_report_bytes * 4:
        raise MessageError(RejectReason.TOO_LARGE, f"message of {raw.size} bytes exceeds 4 x max_report_bytes")
    try:
        return "\r".join(segment.decode("utf-8") for segment in raw.segments)
    except UnicodeDecodeError as exc:
        raise MessageError(RejectReason.NOT_UTF8, f"invalid UTF-8 in message {raw.number}: {exc.reason}") from None


def _parsed(spec: InputSpec, limits: IngestLimits) -> Iterator[tuple[RawMessage, OruReport | MessageError]]:
    with open(spec.path, "rb") as fh:
        for raw in split_messages(fh, limits.max_report_bytes * 4):
            try:
                yield raw, parse_oru(_decode(raw, limits))
            except MessageError as exc:
                yield raw, exc


def _kept_versions(spec: InputSpec, limits: IngestLimits) -> dict[str, int]:
    """Per locator, the number of the message to keep: the last final or corrected one, else the last."""
    best: dict[str, tuple[bool, int]] = {}
    for raw, parsed in _parsed(spec, limits):
        if isinstance(parsed, OruReport):
            rank = (parsed.result_status in FINAL_STATUSES, raw.number)
            best[parsed.locator] = max(best.get(parsed.locator, rank), rank)
    return {locator: number for locator, (_, number) in best.items()}


def read_hl7(spec: InputSpec, limits: IngestLimits) -> Iterator[SourceRecord | Reject]:
    """One record or reject per message of an HL7 v2 file (two passes: the first finds which version of
    each accession to keep, so memory holds one number per accession, never the messages)."""
    kept = _kept_versions(spec, limits)
    for raw, parsed in _parsed(spec, limits):
        where = f"message={raw.number}"
        if isinstance(parsed, MessageError):
            yield Reject(source=spec.source, locator=where, reason=parsed.reason, message=str(parsed))
        elif kept[parsed.locator] != raw.number:
            yield Reject(source=spec.source, locator=f"{where};{parsed.locator}", reason=RejectReason.HL7_SUPERSEDED,
                         message=f"status {parsed.result_status or 'unknown'}; replaced by message "
                                 f"{kept[parsed.locator]} of this file (a later final or corrected result)")
        else:
            yield SourceRecord(source=spec.source, locator=parsed.locator, raw=parsed.text,
                               patient_id=parsed.patient_id, study_id=parsed.accession,
                               study_date=parsed.study_date, exam=parsed.exam)
