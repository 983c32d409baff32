"""HL7 v2 ``ORU^R01`` result messages as report records: the RIS's own export format.

A file holds one message or a batch: messages one after another, optionally MLLP-framed (``<VT>``
before, ``<FS><CR>`` after each) and optionally wrapped in ``FHS``/``BHS`` ... ``BTS``/``FTS``
segments. Segments may end in ``\\r`` (the standard), ``\\n`` or ``\\r\\n`` (archives written by
interface engines and editors). A message starts at ``MSH``, at an MLLP start byte or after a
blank line or a batch segment. The bytes are decoded in the character set MSH-18 declares
(``CHARSETS``: ASCII, ``8859/1`` .. ``8859/16``, ``UNICODE UTF-8``; UTF-8 when MSH-18 is empty).

Each order of an ``ORU^R01`` (an OBR and the OBX segments after it, HL7 v2.5.1 chapter 7) becomes
one record, or one reject naming the order:

==================  =============================================================================
report text         OBX-5 of every OBX of the order whose OBX-2 value type is TX, FT or ST, in order,
                    one line each (repetitions too), escape sequences decoded (``\\.br\\``, ``\\F\\``,
                    ``\\S\\``, ``\\T\\``, ``\\R\\``, ``\\E\\``, ``\\Xhh..\\``); OBX-11 ``D``/``W`` (deleted, wrong)
                    are left out
locator             ``OBR-3=<id>[^<namespace>]``, else ``OBR-2=...``, else ``MSH-10=...`` (``;order=N``
                    added when the message has several orders)
source              the sending system, ``hl7:<MSH-4>/<MSH-3>`` (or --source-name): file-independent,
                    so one accession sent in several files is one report
patient_id          PID-3 (the PID before the order), first identifier (CX.1)
study_id            the accession: OBR-3.1 (else OBR-2.1)
study_date          OBR-7 (observation date/time) as an ISO date
exam                OBR-4 text (CE.2), else its code (CE.1): ``reports.examination``, and it feeds
                    modality and body-region detection
result_status       OBR-25 (HL7 table 0123) in FHIR DiagnosticReport.status words (``RESULT_STATUS``)
==================  =============================================================================

Radiology only: an order whose OBR-24 diagnostic service section (HL7 table 0074) is a section not
in the run's radiology sections (``RADIOLOGY_SECTIONS``, --hl7-radiology-section) is an
``hl7_not_radiology`` reject. One whose OBR-24 is empty or not a table 0074 code (senders put local
words or DICOM modalities there) is the same reject only when it looks like a laboratory result:
its OBX carry reference ranges or abnormal flags (OBX-7, OBX-8) and neither its exam, its OBR-24
words nor its text name an imaging modality (radlite.report.infer_modality); else it is radiology.

Versions: the orders of the run's HL7 files (``InputSpec.feed``) that share a source and locator
are versions of one result. The kept one is the latest final or corrected version (a non-final
version never replaces a final one), else the latest: ordered by OBR-22 (status change time), else
MSH-7, then status (corrected over final over preliminary ...), then file and message order. The
others are ``hl7_superseded`` rejects naming it. Across runs a later version replaces the earlier
through the run's incremental mechanism (same report_id, new text), and ``reports_history`` keeps
the old one; a version from an earlier stage than the committed one (``outranked``: a preliminary
after a final) is an ``hl7_superseded`` reject instead (pipelines.process).

Every message or order that cannot be a report is a ``Reject`` with a specific reason and the rest
of the file is read. Parsing of segments, fields and escapes is python-hl7's (``hl7``); framing,
line endings, character sets, the checks above and the mapping are ours (docs/standards.md says why).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import hl7

from radlite.io.inputs import InputSpec, source_name
from radlite.io.records import IngestLimits, SourceRecord
from radlite.rejects import Reject, RejectReason
from radlite.report import infer_modality

TEXT_VALUE_TYPES = ("TX", "FT", "ST")
#: OBX-11 result statuses whose value is not part of the report (HL7 table 0085).
LEFT_OUT_OBX_STATUS = ("D", "W")
#: OBR-25 result status (HL7 table 0123) in FHIR DiagnosticReport.status words. O, I, S, A, P, C, F as
#: the HL7 v2-to-FHIR IG's ConceptMap table-hl70123 maps them; R (stored, not verified) and M
#: (corrected, not final) as partial, N (done, results pending) as registered, X (cancelled) as
#: cancelled, Y and Z (used only on queries) and any other code as unknown.
RESULT_STATUS = {"O": "registered", "I": "registered", "S": "registered", "N": "registered", "A": "partial",
                 "R": "partial", "M": "partial", "P": "preliminary", "F": "final", "C": "corrected",
                 "X": "cancelled", "Y": "unknown", "Z": "unknown"}
#: Order of versions with the same time: a later stage of the workflow wins.
STATUS_RANK = {"cancelled": 0, "unknown": 0, "registered": 1, "partial": 2, "preliminary": 3, "final": 4,
               "corrected": 5}
FINAL_STATUSES = ("final", "corrected")
#: HL7 table 0074, diagnostic service section ID (v2.1 to v2.7 codes): an OBR-24 outside it is a local word.
DIAGNOSTIC_SECTIONS = frozenset((
    "AU", "BG", "BLB", "CG", "CH", "CP", "CT", "CTH", "CUS", "EC", "EN", "GE", "HM", "ICU", "IMM", "LAB", "MB",
    "MCB", "MYC", "NMR", "NMS", "NRS", "OSL", "OT", "OTH", "OUS", "PAR", "PAT", "PF", "PHR", "PHY", "PT", "RAD",
    "RC", "RT", "RUS", "RX", "SP", "SR", "TX", "URN", "VR", "VUS", "XRC"))
#: The table 0074 sections read as radiology by default: radiology, radiograph, cineradiograph, CAT scan,
#: nuclear magnetic resonance, nuclear medicine scan, and the radiology, OB, cardiac and vascular ultrasounds.
RADIOLOGY_SECTIONS = ("RAD", "RX", "XRC", "CT", "NMR", "NMS", "RUS", "OUS", "CUS", "VUS")
#: MSH-18 character sets (HL7 table 0211) and the Python codec that decodes each; table 0211 lists
#: 8859/1 .. 8859/9 and 8859/15, the other ISO 8859 parts are read under the same naming.
CHARSETS = {"ASCII": "ascii", "ISO IR6": "ascii", "ISO IR100": "iso8859-1", "UNICODE UTF-8": "utf-8",
            "ISO IR192": "utf-8"} | {f"8859/{n}": f"iso8859-{n}" for n in (*range(1, 12), 13, 14, 15, 16)}
_BATCH_SEGMENTS = (b"FHS", b"BHS", b"BTS", b"FTS")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_MLLP_START, _MLLP_END = b"\x0b", b"\x1c"
#: Formatting escapes (\.br\, \.sp\, \.ce\ line breaks; highlighting marks dropped) for report text.
_TEXT_ESCAPES = {".br": "\n", ".sp": "\n", ".ce": "\n", ".in": "", ".ti": "", ".sk": " ", "H": "", "N": ""}


def outranked(status: str | None, committed: str | None) -> bool:
    """True when a version of status ``status`` comes from an earlier stage of the workflow than the
    committed version's (a preliminary arriving after the final was committed): it must not replace it."""
    if not status or not committed:
        return False
    return STATUS_RANK.get(status, 0) < STATUS_RANK.get(committed, 0)


@dataclass
class RawMessage:
    """The segments of one message as read, before decoding; ``number`` counts messages from 1."""

    number: int
    segments: list[bytes] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class OruReport:
    """What one order (OBR group) of an ORU^R01 message says about its report (module docstring)."""

    order: int
    locator: str
    source: str
    accession: str | None
    text: str
    patient_id: str | None
    study_date: str | None
    exam: str | None
    #: FHIR DiagnosticReport.status word for OBR-25; None when OBR-25 is empty.
    result_status: str | None
    #: OBR-22, else MSH-7, as 14 digits (YYYYMMDDhhmmss, missing parts 0); "" when neither is a time.
    version_time: str


@dataclass(frozen=True)
class Version:
    """Where one version of a result is, and how it sorts among the others (later is greater)."""

    rank: tuple
    path: str
    message: int
    order: int

    def describe(self) -> str:
        return f"message {self.message} order {self.order} of {self.path}"


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
    """A message, or one order of it, that cannot be a report; ``reason`` is the reject code and
    ``where`` names the order (``order=N;OBR-3=...``), empty for the whole message."""

    def __init__(self, reason: RejectReason, message: str, where: str = ""):
        super().__init__(message)
        self.reason = reason
        self.where = where


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
    return str(segment[index]) if segment is not None and len(segment) > index else ""


def _component(message, raw: str, index: int) -> str:
    """Component ``index`` (1-based) of the first repetition of a raw field, unescaped and stripped."""
    repetition = raw.split(message.separators[2], 1)[0]
    parts = repetition.split(message.separators[3])
    return message.unescape(parts[index - 1]).strip() if len(parts) >= index else ""


def _iso_date(value: str) -> str | None:
    """``YYYYMMDD[hhmm...]`` (HL7 DTM) as ``YYYY-MM-DD``; None when it is not a date."""
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})[\d.+-]*", value)
    if not m or not ("01" <= m.group(2) <= "12" and "01" <= m.group(3) <= "31"):
        return None
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"


def _version_time(*values: str) -> str:
    """The first HL7 DTM of ``values`` as 14 digits (seconds and below cut, missing parts 0; the zone
    is ignored); "" when none is a time."""
    for value in values:
        if m := re.match(r"\d{4,14}", value):
            return m.group().ljust(14, "0")
    return ""


def _report_text(message, observations: list) -> str:
    """OBX-5 of the text-typed OBX segments, one line per OBX and per repetition, escapes decoded."""
    lines: list[str] = []
    for obx in observations:
        if _field(obx, 2) not in TEXT_VALUE_TYPES or _field(obx, 11) in LEFT_OUT_OBX_STATUS:
            continue
        for repetition in _field(obx, 5).split(message.separators[2]):
            if repetition.strip(message.separators[3] + message.separators[4] + " "):  # "^" alone is empty
                lines.append(message.unescape(repetition, app_map=_TEXT_ESCAPES).replace("\r", "\n"))
    return "\n".join(lines).strip("\n")


@dataclass
class _Order:
    """One OBR group as found: the OBR (None when the message has OBX but no OBR), its OBX segments
    and the PID before it."""

    obr: object
    pid: object
    observations: list = field(default_factory=list)


def _orders(message) -> list[_Order]:
    """The message's OBR groups in order; a message with no OBR is one group of all its OBX."""
    orders: list[_Order] = []
    pid = None
    for segment in message:
        name = str(segment[0])
        if name == "PID":
            pid = segment
        elif name == "OBR":
            orders.append(_Order(segment, pid))
        elif name == "OBX":
            if not orders:
                orders.append(_Order(None, pid))
            orders[-1].observations.append(segment)
    return orders or [_Order(None, pid)]


def _locator(message, obr, msh, order: int, orders: int) -> tuple[str, str | None]:
    """(locator, accession): OBR-3 (filler order number with its namespace), else OBR-2, else MSH-10
    (with the order's number when the message has several)."""
    for name, raw in (("OBR-3", _field(obr, 3)), ("OBR-2", _field(obr, 2))):
        identifier, namespace = _component(message, raw, 1), _component(message, raw, 2)
        if identifier:
            return f"{name}={identifier}" + (f"^{namespace}" if namespace else ""), identifier
    control = _component(message, _field(msh, 10), 1)
    if control:
        return f"MSH-10={control}" + (f";order={order}" if orders > 1 else ""), None
    raise MessageError(RejectReason.MISSING_FIELD, "no OBR-3, OBR-2 or MSH-10 to identify the report",
                       f"order={order}")


def _laboratory_signs(observations: list) -> bool:
    """True when an OBX of the order carries a reference range (OBX-7) or an abnormal flag (OBX-8):
    what laboratory results have and radiology reports do not."""
    return any(_field(obx, 7).strip() or _field(obx, 8).strip() for obx in observations)


def _check_radiology(section: str, exam: str, text: str, observations: list, sections: tuple[str, ...]) -> None:
    """Raise ``hl7_not_radiology`` for an order that is not a radiology result (module docstring)."""
    code = section.upper()
    if code in sections:
        return
    if code in DIAGNOSTIC_SECTIONS:
        raise MessageError(RejectReason.HL7_NOT_RADIOLOGY,
                           f"OBR-24 diagnostic service section {code} is not radiology "
                           f"(radiology sections: {', '.join(sections)})")
    if _laboratory_signs(observations) and infer_modality(f"{exam} {section}", text) == "unknown":
        said = f"OBR-24 {section!r} is not an HL7 table 0074 section" if section else "OBR-24 is empty"
        raise MessageError(RejectReason.HL7_NOT_RADIOLOGY,
                           f"{said}, neither the exam {exam!r} nor the text names an imaging modality, and its "
                           "OBX carry reference ranges or abnormal flags (OBX-7/OBX-8) as laboratory results do")


def _sender(message, msh) -> str:
    """The sending system: ``hl7:<MSH-4 facility>/<MSH-3 application>``."""
    return f"hl7:{_component(message, _field(msh, 4), 1)}/{_component(message, _field(msh, 3), 1)}"


def _order_report(message, msh, found: _Order, number: int, count: int,
                  sections: tuple[str, ...]) -> OruReport:
    """The report one order carries; raises MessageError (with ``where``) when it cannot be one."""
    obr = found.obr
    locator, accession = _locator(message, obr, msh, number, count)
    where = f"order={number};{locator}"
    exam = _component(message, _field(obr, 4), 2) or _component(message, _field(obr, 4), 1)
    section = _component(message, _field(obr, 24), 1)
    text = _report_text(message, found.observations)
    try:
        if section.upper() in DIAGNOSTIC_SECTIONS:  # a laboratory section is the reason, text or none
            _check_radiology(section, exam, text, found.observations, sections)
        if not text.strip():
            raise MessageError(RejectReason.HL7_NO_TEXT, "no OBX segment of value type TX, FT or ST holds text")
        _check_radiology(section, exam, text, found.observations, sections)
    except MessageError as exc:
        exc.where = where
        raise
    status = _component(message, _field(obr, 25), 1).upper()
    return OruReport(
        order=number, locator=locator, source=_sender(message, msh), accession=accession, text=text,
        patient_id=_component(message, _field(found.pid, 3), 1) or None,
        study_date=_iso_date(_component(message, _field(obr, 7), 1)), exam=exam or None,
        result_status=RESULT_STATUS.get(status, "unknown") if status else None,
        version_time=_version_time(_component(message, _field(obr, 22), 1),
                                   _component(message, _field(msh, 7), 1)))


def parse_oru(text: str, sections: tuple[str, ...] = RADIOLOGY_SECTIONS) -> list[OruReport | MessageError]:
    """The reports of one decoded message, one per order (or the MessageError saying why the order
    is none); raises MessageError for a message that cannot be read at all."""
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
    orders = _orders(message)
    results: list[OruReport | MessageError] = []
    first_order: dict[str, int] = {}
    for number, found in enumerate(orders, 1):
        try:
            report = _order_report(message, msh, found, number, len(orders), sections)
        except MessageError as exc:
            results.append(exc)
            continue
        if report.locator in first_order:
            results.append(MessageError(RejectReason.DUPLICATE_ID,
                                        f"order {number} repeats the accession of order "
                                        f"{first_order[report.locator]} of this message",
                                        f"order={number};{report.locator}"))
            continue
        first_order[report.locator] = number
        results.append(report)
    return results


def message_charset(raw: RawMessage) -> str:
    """MSH-18 (its first repetition) as written, upper case; "" when absent. Read from the raw MSH bytes:
    the name says how to decode the rest."""
    msh = raw.segments[0] if raw.segments else b""
    if not msh.startswith(b"MSH") or len(msh) < 8:
        return ""
    fields = msh.split(msh[3:4])
    repetition = fields[1][1:2] or b"~"
    value = fields[17] if len(fields) > 17 else b""
    return value.split(repetition)[0].decode("latin-1").strip().upper()


def _decode(raw: RawMessage, max_report_bytes: int) -> str:
    """The message as text with ``\\r`` segment terminators, decoded in its MSH-18 character set (UTF-8
    when none is declared); raises MessageError when too large, of an unknown charset or undecodable."""
    if raw.size > max_report_bytes * 4:
        raise MessageError(RejectReason.TOO_LARGE, f"message of {raw.size} bytes exceeds 4 x max_report_bytes")
    charset = message_charset(raw)
    if charset and charset not in CHARSETS:
        raise MessageError(RejectReason.HL7_BAD_CHARSET,
                           f"MSH-18 character set {charset!r} is not one RadLite decodes ({', '.join(CHARSETS)})")
    try:
        return "\r".join(segment.decode(CHARSETS.get(charset, "utf-8")) for segment in raw.segments)
    except UnicodeDecodeError as exc:
        if charset:
            raise MessageError(RejectReason.HL7_BAD_CHARSET,
                               f"message {raw.number} is not valid {charset} (MSH-18): {exc.reason}") from None
        raise MessageError(RejectReason.NOT_UTF8, f"invalid UTF-8 in message {raw.number}: {exc.reason}") from None


def _sections(spec: InputSpec) -> tuple[str, ...]:
    return tuple(s.upper() for s in spec.radiology_sections) if spec.radiology_sections is not None \
        else RADIOLOGY_SECTIONS


def _parsed(path: str, max_report_bytes: int, sections: tuple[str, ...]
            ) -> Iterator[tuple[RawMessage, list[OruReport | MessageError]]]:
    """Each message of the file with its orders' reports (or the one error of the whole message)."""
    with open(path, "rb") as fh:
        for raw in split_messages(fh, max_report_bytes * 4):
            try:
                yield raw, parse_oru(_decode(raw, max_report_bytes), sections)
            except MessageError as exc:
                yield raw, [exc]


def _report_source(spec: InputSpec, report: OruReport) -> str:
    """--source-name when the user gave one, else the sending system."""
    return spec.source if spec.source != source_name(spec.path) else report.source


def _rank(report: OruReport, position: tuple[int, int, int]) -> tuple:
    status = report.result_status or "unknown"
    return (status in FINAL_STATUSES, report.version_time, STATUS_RANK.get(status, 0), *position)


@functools.lru_cache(maxsize=4)
def _kept_versions(feed: tuple[str, ...], stamps: tuple, max_report_bytes: int, sections: tuple[str, ...],
                   named_source: str | None) -> dict[tuple[str, str], Version]:
    """Per (source, locator), the version to keep among every order of the feed's files. ``stamps``
    (size, mtime of each file) keeps a cached answer from outliving a changed file."""
    best: dict[tuple[str, str], Version] = {}
    for file_number, path in enumerate(feed):
        for raw, results in _parsed(path, max_report_bytes, sections):
            for report in results:
                if isinstance(report, OruReport):
                    key = (named_source or report.source, report.locator)
                    version = Version(_rank(report, (file_number, raw.number, report.order)), path, raw.number,
                                      report.order)
                    if key not in best or version.rank > best[key].rank:
                        best[key] = version
    return best


def _stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


def read_hl7(spec: InputSpec, limits: IngestLimits) -> Iterator[SourceRecord | Reject]:
    """One record or reject per order of an HL7 v2 file (one reject for a message that cannot be read).
    A first pass over the run's HL7 files (``spec.feed``) finds which version of each result to keep;
    it holds one entry per accession, never the messages, and is computed once per process."""
    feed = spec.feed if spec.path in spec.feed else (spec.path,)
    sections = _sections(spec)
    named = spec.source if spec.source != source_name(spec.path) else None
    kept = _kept_versions(feed, tuple(_stamp(p) for p in feed), limits.max_report_bytes, sections, named)
    for raw, results in _parsed(spec.path, limits.max_report_bytes, sections):
        where = f"message={raw.number}"
        for report in results:
            if isinstance(report, MessageError):
                yield Reject(source=spec.source, locator=f"{where};{report.where}" if report.where else where,
                             reason=report.reason, message=str(report))
                continue
            source = _report_source(spec, report)
            winner = kept.get((source, report.locator))
            if winner is not None and (winner.path, winner.message, winner.order) != (spec.path, raw.number,
                                                                                      report.order):
                yield Reject(source=spec.source, locator=f"{where};order={report.order};{report.locator}",
                             reason=RejectReason.HL7_SUPERSEDED,
                             message=f"status {report.result_status or 'not given'}; replaced by "
                                     f"{winner.describe()} (a later or final version of this result)")
                continue
            yield SourceRecord(source=source, locator=report.locator, raw=report.text,
                               patient_id=report.patient_id, study_id=report.accession,
                               study_date=report.study_date, exam=report.exam,
                               result_status=report.result_status)
