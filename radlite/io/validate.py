"""Turn a raw SourceRecord into an accepted Report or a Reject with a reason code."""

from __future__ import annotations

from collections.abc import Iterator

from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.io.readers import read_input
from radlite.io.records import IngestLimits, SourceRecord
from radlite.rejects import Reject, RejectReason, has_surrogates
from radlite.report import Report, build_report

_TEXT_CONTROLS = {9, 10, 12, 13}


def looks_binary(raw: bytes) -> bool:
    """NUL bytes, or many control characters in the first 4 KiB, mean this is not a text report."""
    head = raw[:4096]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return bool(head) and controls / len(head) > 0.05


def validate_record(record: SourceRecord, limits: IngestLimits) -> Report | Reject:
    """Decode, bound and parse one record; every failure is a Reject, never an exception."""

    def reject(reason: RejectReason, message: str) -> Reject:
        return Reject(source=record.source, locator=record.locator, reason=reason, message=message)

    raw = record.raw
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > limits.max_report_bytes:
        return reject(RejectReason.TOO_LARGE, f"more than max_report_bytes={limits.max_report_bytes} bytes")
    if isinstance(raw, bytes):
        if looks_binary(raw):
            return reject(RejectReason.BINARY, "content is binary (NUL or control bytes)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return reject(RejectReason.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}")
        text = text.removeprefix("\ufeff")
    else:
        text = raw
    if any(has_surrogates(v) for v in (text, record.locator, record.patient_id or "", record.study_id or "",
                                        record.study_date or "")):
        return reject(RejectReason.NOT_UTF8, "text or id holds bytes that are not UTF-8 (or a lone surrogate)")
    if not text.strip():
        return reject(RejectReason.EMPTY, "report is empty or whitespace only")
    return build_report(record.source, record.locator, text, patient_id=record.patient_id,
                        study_id=record.study_id, study_date=record.study_date, exam=record.exam,
                        modality=record.modality)


def accepted_reports(paths: list[str], limits: IngestLimits | None = None) -> Iterator[Report]:
    """The Reports the pipeline would accept from ``paths`` (rejects skipped): for tools outside Beam."""
    limits = limits or IngestLimits()
    for spec in expand_inputs(paths, None, ColumnMapping()):
        for item in read_input(spec, limits):
            if isinstance(item, SourceRecord):
                report = validate_record(item, limits)
                if isinstance(report, Report):
                    yield report
