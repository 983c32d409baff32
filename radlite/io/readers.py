"""Streaming readers: each yields SourceRecord or Reject, one input record at a time.

Memory stays flat in archive size: members and rows are read one by one, and a member is
read at most ``max_report_bytes + 1`` bytes, whatever its header claims.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

import pyarrow.parquet as pq

from radlite.io.inputs import ColumnMapping, InputFormat, InputSpec
from radlite.io.records import IngestLimits, SourceRecord
from radlite.rejects import Reject, RejectReason

Item = SourceRecord | Reject

_MIMIC_PATH = re.compile(r"(?:^|/)p\d{2}/p(?P<patient>\d+)/s(?P<study>\d+)\.txt$")


def mimic_ids(locator: str) -> tuple[str | None, str | None]:
    """(patient_id, study_id) from a MIMIC-CXR ``files/pNN/pNNNNNNNN/sNNNNNNNN.txt`` path."""
    m = _MIMIC_PATH.search(locator)
    return (m.group("patient"), m.group("study")) if m else (None, None)


def is_unsafe_member(name: str) -> bool:
    """True for absolute paths and paths that climb out with ``..``."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts


def _member_record(source: str, name: str, declared: int, stored: int, read, limits: IngestLimits) -> Item:
    """Checks shared by every archive-like container, then the (bounded) read."""
    if is_unsafe_member(name):
        return Reject(source=source, locator=name, reason=RejectReason.UNSAFE_PATH,
                      message="member path is absolute or contains '..'")
    if not name.lower().endswith(".txt"):
        return Reject(source=source, locator=name, reason=RejectReason.NOT_A_REPORT,
                      message="archive member is not a .txt report")
    if declared > limits.max_report_bytes:
        if stored > 0 and declared / stored > limits.max_compression_ratio:
            return Reject(source=source, locator=name, reason=RejectReason.COMPRESSION_BOMB,
                          message=f"inflates to {declared} bytes from {stored} (ratio {declared / stored:.0f})")
        return Reject(source=source, locator=name, reason=RejectReason.TOO_LARGE,
                      message=f"{declared} bytes exceeds max_report_bytes={limits.max_report_bytes}")
    raw = read(limits.max_report_bytes + 1)
    patient, study = mimic_ids(name)
    return SourceRecord(source=source, locator=name, raw=raw, patient_id=patient, study_id=study)


def read_zip(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    with zipfile.ZipFile(spec.path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            def read(n, info=info):
                with archive.open(info) as fh:
                    return fh.read(n)
            yield _member_record(spec.source, info.filename, info.file_size, info.compress_size, read, limits)


def read_tar(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    compressed = os.path.getsize(spec.path)
    with tarfile.open(spec.path, mode="r|*") as archive:
        for member in archive:
            if member.isdir():
                continue
            if not member.isfile():
                yield Reject(source=spec.source, locator=member.name, reason=RejectReason.NOT_A_REPORT,
                             message="archive member is a link or device, not a regular file")
                continue
            fh = archive.extractfile(member)
            # A streamed tar has no per-member stored size; the whole archive's size bounds it.
            yield _member_record(spec.source, member.name, member.size, compressed, fh.read, limits)


def read_folder(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    root = os.path.realpath(spec.path)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            full = os.path.join(dirpath, filename)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if os.path.commonpath([root, os.path.realpath(full)]) != root:
                yield Reject(source=spec.source, locator=rel, reason=RejectReason.UNSAFE_PATH,
                             message="link points outside the input folder")
                continue
            size = os.path.getsize(full)
            def read(n, full=full):
                with open(full, "rb") as fh:
                    return fh.read(n)
            yield _member_record(spec.source, rel, size, size, read, limits)


def read_text_file(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    with open(spec.path, "rb") as fh:
        raw = fh.read(limits.max_report_bytes + 1)
    yield SourceRecord(source=spec.source, locator=os.path.basename(spec.path), raw=raw)


def _cell(row: dict, column: str | None) -> str | None:
    if column is None:
        return None
    value = row.get(column)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def row_to_record(source: str, row_number: int, row: dict, mapping: ColumnMapping) -> Item:
    """Turn one tabular row into a record; section columns become a headed report text."""
    rid = _cell(row, mapping.id_column)
    locator = f"id={rid}" if rid else f"row={row_number}"
    if mapping.text_column:
        if mapping.text_column not in row:
            return Reject(source=source, locator=locator, reason=RejectReason.MISSING_FIELD,
                          message=f"no column {mapping.text_column!r}")
        text = "" if row[mapping.text_column] is None else str(row[mapping.text_column])
    elif mapping.section_columns:
        text = "\n\n".join(f"{section.upper()}:\n{_cell(row, column)}"
                           for section, column in mapping.section_columns.items() if _cell(row, column))
    else:
        return Reject(source=source, locator=locator, reason=RejectReason.MISSING_FIELD,
                      message="no text column found; name one with --text-column or --section-column")
    return SourceRecord(source=source, locator=locator, raw=text,
                        patient_id=_cell(row, mapping.patient_column),
                        study_id=_cell(row, mapping.study_column),
                        study_date=_cell(row, mapping.date_column))


def read_csv(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    delimiter = "\t" if spec.path.lower().endswith(".tsv") else ","
    with open(spec.path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as exc:
            yield Reject(source=spec.source, locator="header", reason=RejectReason.UNREADABLE_INPUT,
                         message=f"CSV has no readable header: {exc}")
            return
        mapping = spec.columns.resolve(header)
        row_number = 0
        while True:
            row_number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Reject(source=spec.source, locator=f"row={row_number}",
                             reason=RejectReason.MALFORMED_CSV_ROW, message=str(exc))
                continue
            if not cells:
                row_number -= 1
                continue
            if len(cells) != len(header):
                yield Reject(source=spec.source, locator=f"row={row_number}", reason=RejectReason.MALFORMED_CSV_ROW,
                             message=f"{len(cells)} fields, header has {len(header)}")
                continue
            if any("\udc80" <= ch <= "\udcff" for cell in cells for ch in cell):
                yield Reject(source=spec.source, locator=f"row={row_number}", reason=RejectReason.NOT_UTF8,
                             message="row contains bytes that are not UTF-8")
                continue
            yield row_to_record(spec.source, row_number, dict(zip(header, cells)), mapping)


def read_jsonl(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    mapping: ColumnMapping | None = None
    with open(spec.path, "rb") as fh:
        for line_number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            locator = f"line={line_number}"
            try:
                obj = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield Reject(source=spec.source, locator=locator, reason=RejectReason.NOT_UTF8, message=str(exc))
                continue
            except json.JSONDecodeError as exc:
                yield Reject(source=spec.source, locator=locator, reason=RejectReason.MALFORMED_JSONL, message=str(exc))
                continue
            if not isinstance(obj, dict):
                yield Reject(source=spec.source, locator=locator, reason=RejectReason.MALFORMED_JSONL,
                             message=f"line is a JSON {type(obj).__name__}, not an object")
                continue
            mapping = mapping or spec.columns.resolve(list(obj))
            yield row_to_record(spec.source, line_number, obj, mapping)


def read_parquet(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:

    parquet = pq.ParquetFile(spec.path)
    mapping = spec.columns.resolve(parquet.schema_arrow.names)
    row_number = 0
    for batch in parquet.iter_batches(batch_size=2048):
        for row in batch.to_pylist():
            row_number += 1
            yield row_to_record(spec.source, row_number, row, mapping)


READERS = {
    InputFormat.ZIP: read_zip,
    InputFormat.TAR: read_tar,
    InputFormat.FOLDER: read_folder,
    InputFormat.TEXT: read_text_file,
    InputFormat.CSV: read_csv,
    InputFormat.JSONL: read_jsonl,
    InputFormat.PARQUET: read_parquet,
}


def reject_duplicates(items: Iterable[Item]) -> Iterator[Item]:
    """Second and later records with an already-seen locator (hence report id) become rejects."""
    seen: set[str] = set()
    for item in items:
        if isinstance(item, SourceRecord):
            if item.locator in seen:
                yield Reject(source=item.source, locator=item.locator, reason=RejectReason.DUPLICATE_ID,
                             message="an earlier record of this input has the same id")
                continue
            seen.add(item.locator)
        yield item


def read_input(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    """All records of one input; an input that cannot be opened at all becomes one reject."""
    try:
        yield from reject_duplicates(READERS[spec.format](spec, limits))
    except (OSError, zipfile.BadZipFile, tarfile.TarError, ValueError) as exc:
        yield Reject(source=spec.source, locator=spec.path, reason=RejectReason.UNREADABLE_INPUT,
                     message=f"{type(exc).__name__}: {exc}")
