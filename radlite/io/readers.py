"""Streaming readers: each yields SourceRecord or Reject, one input record at a time.

Memory stays flat in archive size: members and rows are read one by one, and a member is
read at most ``max_report_bytes + 1`` bytes, whatever its header claims; a CSV row or JSONL line
is read in bounded pieces (radlite.io.bounded), so an over-long one is skipped, never held.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import lzma
import math
import os
import re
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import PurePosixPath

import pyarrow.parquet as pq

from radlite.io.bounded import read_csv_record, read_line
from radlite.io.hl7 import read_hl7
from radlite.io.inputs import ColumnMapping, InputFormat, InputSpec
from radlite.io.records import IngestLimits, SourceRecord
from radlite.rejects import Reject, RejectReason, has_surrogates

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
    if has_surrogates(name):
        return Reject(source=source, locator=name, reason=RejectReason.BAD_FILENAME,
                      message="file name is not valid UTF-8")
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
    try:
        raw = read(limits.max_report_bytes + 1)
    except NotImplementedError as exc:  # zipfile: compression method it cannot inflate
        return Reject(source=source, locator=name, reason=RejectReason.UNSUPPORTED_COMPRESSION, message=str(exc))
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, tarfile.TarError, OSError) as exc:
        return Reject(source=source, locator=name, reason=RejectReason.CORRUPT_MEMBER,
                      message=f"{type(exc).__name__}: {exc}")
    patient, study = mimic_ids(name)
    return SourceRecord(source=source, locator=name, raw=raw, patient_id=patient, study_id=study)


def read_zip(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    with zipfile.ZipFile(spec.path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                yield Reject(source=spec.source, locator=info.filename, reason=RejectReason.ENCRYPTED_MEMBER,
                             message="member is encrypted (password protected)")
                continue

            def read(n, info=info):
                with archive.open(info) as fh:
                    data = fh.read(n)
                    if len(data) < n:
                        fh.read(1)  # at the end: let zipfile check the member's CRC
                    return data
            yield _member_record(spec.source, info.filename, info.file_size, info.compress_size, read, limits)


#: Compressed tars by their magic bytes, each opened with a reader that inflates a bounded piece
#: at a time (tarfile's own ``r|*`` inflates a whole input chunk at once and copies what is left
#: after every read: a 2 KB .tar.bz2 declaring a 2 GB member then never ends).
_TAR_COMPRESSIONS = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))

#: A compressed tar may always inflate this far, whatever its ratio (tar pads a small archive to 10 KB).
MIN_TAR_INFLATION = 64 * 1024 * 1024


class _ArchiveBomb(Exception):
    """A compressed archive inflated past its budget; reading on would cost that much time."""


class _BudgetedStream:
    """The inflated bytes of a compressed file, raising _ArchiveBomb once more than ``budget`` came out:
    skipping a member means inflating it, so this bounds the time (and tarfile's memory for
    extended headers) that a tiny archive can cost."""

    def __init__(self, fh, budget: int):
        self.fh, self.budget, self.inflated = fh, budget, 0

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(self.budget + 1 - self.inflated if size < 0 else size)
        self.inflated += len(data)
        if self.inflated > self.budget:
            raise _ArchiveBomb(self.inflated)
        return data


@contextmanager
def _tar_stream(path: str, budget: int):
    """The tar bytes of ``path``, inflated with a bounded budget when it is compressed."""
    with ExitStack() as stack:
        fh = stack.enter_context(open(path, "rb"))
        head = fh.read(6)
        fh.seek(0)
        opener = next((o for magic, o in _TAR_COMPRESSIONS if head.startswith(magic)), None)
        yield _BudgetedStream(stack.enter_context(opener(fh)), budget) if opener else fh


def read_tar(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    compressed = os.path.getsize(spec.path)
    budget = max(int(limits.max_compression_ratio * compressed), MIN_TAR_INFLATION)
    member_name = None
    with _tar_stream(spec.path, budget) as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        try:
            for member in archive:
                if member.isdir():
                    continue
                if not member.isfile():
                    yield Reject(source=spec.source, locator=member.name, reason=RejectReason.NOT_A_REGULAR_FILE,
                                 message="archive member is a link or device, not a regular file")
                    continue
                fh, member_name = archive.extractfile(member), member.name
                # A streamed tar has no per-member stored size; the whole archive's size bounds it.
                item = _member_record(spec.source, member.name, member.size, compressed, fh.read, limits)
                member_name = None
                yield item
        except _ArchiveBomb:
            yield Reject(source=spec.source, locator=member_name or spec.path, reason=RejectReason.COMPRESSION_BOMB,
                         message=f"the archive inflates past {budget} bytes ({limits.max_compression_ratio:g} times "
                                 f"its {compressed}); it is not read further")


def _folder_entry(root: str, full: str, rel: str, source: str, limits: IngestLimits) -> Item:
    """One folder entry: never follows a link out of ``root``, never opens anything but a regular file."""
    try:
        target = os.path.realpath(full)
        if os.path.commonpath([root, target]) != root:
            return Reject(source=source, locator=rel, reason=RejectReason.UNSAFE_PATH,
                          message="link points outside the input folder")
        info = os.stat(full)
    except FileNotFoundError:
        return Reject(source=source, locator=rel, reason=RejectReason.NOT_A_REGULAR_FILE,
                      message="dangling link")
    except OSError as exc:
        return Reject(source=source, locator=rel, reason=RejectReason.UNREADABLE_INPUT, message=str(exc))
    if not stat.S_ISREG(info.st_mode):
        return Reject(source=source, locator=rel, reason=RejectReason.NOT_A_REGULAR_FILE,
                      message="not a regular file (FIFO, socket or device)")

    def read(n):
        with open(full, "rb") as fh:
            return fh.read(n)
    return _member_record(source, rel, info.st_size, info.st_size, read, limits)


def read_folder(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    root = os.path.realpath(spec.path)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            # os.walk does not enter linked folders; one pointing inside is read at its real place.
            full = os.path.join(dirpath, name)
            if os.path.commonpath([root, os.path.realpath(full)]) != root:
                yield Reject(source=spec.source, locator=os.path.relpath(full, root).replace(os.sep, "/"),
                             reason=RejectReason.UNSAFE_PATH, message="linked folder points outside the input")
        for filename in sorted(filenames):
            full = os.path.join(dirpath, filename)
            yield _folder_entry(root, full, os.path.relpath(full, root).replace(os.sep, "/"), spec.source, limits)


def read_text_file(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    with open(spec.path, "rb") as fh:
        raw = fh.read(limits.max_report_bytes + 1)
    yield SourceRecord(source=spec.source, locator=os.path.basename(spec.path), raw=raw)


class _BadType(ValueError):
    """A tabular value of a type that cannot be report text or an id."""


def _text_value(value, column: str) -> str:
    """A text cell as a string: strings as they are, null as empty; anything else is a _BadType."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise _BadType(f"column {column!r} holds a {type(value).__name__}, not text")


def _cell(row: dict, column: str | None) -> str | None:
    """An id or metadata cell as a stripped string (numbers allowed: ids are often integers)."""
    if column is None or row.get(column) is None:
        return None
    value = row[column]
    if isinstance(value, bool) or not isinstance(value, str | int) and not (
            isinstance(value, float) and math.isfinite(value)):
        raise _BadType(f"column {column!r} holds a {type(value).__name__}, not text or a number")
    return str(value).strip() or None


def row_to_record(source: str, row_number: int, row: dict, mapping: ColumnMapping) -> Item:
    """Turn one tabular row into a record; section columns become a headed report text."""
    locator = f"row={row_number}"
    try:
        rid = _cell(row, mapping.id_column)
        locator = f"id={rid}" if rid else locator
        if mapping.text_column:
            if mapping.text_column not in row:
                return Reject(source=source, locator=locator, reason=RejectReason.MISSING_FIELD,
                              message=f"no column {mapping.text_column!r}")
            text = _text_value(row[mapping.text_column], mapping.text_column)
        elif mapping.section_columns:
            parts = ((section, _text_value(row.get(column), column).strip())
                     for section, column in mapping.section_columns.items())
            text = "\n\n".join(f"{section.upper()}:\n{body}" for section, body in parts if body)
        else:
            return Reject(source=source, locator=locator, reason=RejectReason.MISSING_FIELD,
                          message="no text column found; name one with --text-column or --section-column")
        return SourceRecord(source=source, locator=locator, raw=text,
                            patient_id=_cell(row, mapping.patient_column),
                            study_id=_cell(row, mapping.study_column),
                            study_date=_cell(row, mapping.date_column), exam=_cell(row, mapping.exam_column))
    except _BadType as exc:
        return Reject(source=source, locator=locator, reason=RejectReason.BAD_TYPE, message=str(exc))


def _utf8_stream(path: str) -> io.BufferedReader:
    """The file as UTF-8 bytes without a byte-order mark; UTF-16 files (by their BOM) are transcoded."""
    fh = open(path, "rb")
    head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        fh.seek(0)
        spooled = tempfile.TemporaryFile()
        with io.TextIOWrapper(fh, encoding="utf-16", errors="surrogateescape", newline="") as text:
            for chunk in iter(lambda: text.read(1 << 20), ""):
                spooled.write(chunk.encode("utf-8", "surrogateescape"))
        spooled.seek(0)
        return spooled
    fh.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
    return fh


_OPEN_QUOTE = "open quoted field"
_TOO_LONG = "row longer than"


def _parse_csv_row(data: bytes, delimiter: str) -> tuple[list[str] | None, str]:
    """One CSV row from ``data`` (strict quoting), or None and why not."""
    text = data.decode("utf-8", "surrogateescape")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return None, _OPEN_QUOTE if "unexpected end of data" in str(exc) else str(exc)
    return (rows[0], "") if len(rows) == 1 else (None, f"{len(rows)} rows where one was expected")


def _next_csv_row(fh, delimiter: str, max_bytes: int, width: int | None) -> tuple[list[str] | None, str] | None:
    """The next row of a UTF-8 CSV byte stream as (cells, "") or (None, why it was refused); None at the end.

    Quoted fields may hold newlines. A row whose quote never closes, or whose lines joined do not
    make one row of ``width`` fields, is refused alone: reading resumes on its second line, so one
    stray quote never swallows the rows after it. A row longer than ``max_bytes`` is skipped as it
    streams, never held in memory (radlite.io.bounded). Blank lines come back as an empty list of cells.
    """
    start = fh.tell()
    record = read_csv_record(fh, delimiter, max_bytes)
    if record is None:
        return None
    if not record.closed:
        fh.seek(start + record.first_line)
        return None, "unbalanced quote"
    if record.data is None:
        return None, f"{_TOO_LONG} {max_bytes} bytes"
    cells, error = _parse_csv_row(record.data, delimiter)
    if not error and cells and width is not None and len(cells) != width:
        error = f"{len(cells)} fields, header has {width}"
    if error and record.size > record.first_line:
        fh.seek(start + record.first_line)
    return (None, error) if error else (cells, "")


def _max_row_bytes(limits: IngestLimits) -> int:
    """A row holds one report plus its other columns: allow it generous room beyond the report limit."""
    return 2 * limits.max_report_bytes + (1 << 16)


#: Delimiters a CSV export may use: a European locale writes ";" (its decimal mark is the comma), some
#: RIS exports "|".
CSV_DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(head: bytes, default: str) -> str:
    """The delimiter that splits the header line into the most columns; ``default`` (by the file's
    extension) on a tie, so a one-column file or an ordinary CSV reads as before."""
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
    widths = {d: len(next(csv.reader([line], delimiter=d), [])) for d in CSV_DELIMITERS}
    best = max(widths.values())
    return default if widths[default] == best else next(d for d in CSV_DELIMITERS if widths[d] == best)


def read_csv(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    max_bytes = _max_row_bytes(limits)
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes))
    with _utf8_stream(spec.path) as fh:
        start = fh.tell()
        delimiter = sniff_delimiter(fh.read(1 << 16), "\t" if spec.path.lower().endswith(".tsv") else ",")
        fh.seek(start)
        header = None
        while header is None:
            result = _next_csv_row(fh, delimiter, max_bytes, None)
            if result is None or result[1]:
                yield Reject(source=spec.source, locator="header", reason=RejectReason.UNREADABLE_INPUT,
                             message="CSV has no readable header" + (f": {result[1]}" if result else ""))
                return
            header = result[0] or None
        mapping = spec.columns.resolve(header)
        row_number = 0
        while (result := _next_csv_row(fh, delimiter, max_bytes, len(header))) is not None:
            cells, error = result
            if cells == []:
                continue
            row_number += 1
            if error:
                reason = RejectReason.TOO_LARGE if error.startswith(_TOO_LONG) else RejectReason.MALFORMED_CSV_ROW
                yield Reject(source=spec.source, locator=f"row={row_number}", reason=reason, message=error)
            else:
                yield row_to_record(spec.source, row_number, dict(zip(header, cells)), mapping)


def read_jsonl(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    mapping: ColumnMapping | None = None
    max_bytes = _max_row_bytes(limits)
    with open(spec.path, "rb") as fh:
        line_number = 0
        while (line := read_line(fh, max_bytes)) is not None:
            line_number += 1
            locator = f"line={line_number}"
            if line.data is None:  # skipped as it streamed, never held
                yield Reject(source=spec.source, locator=locator, reason=RejectReason.TOO_LARGE,
                             message=f"{_TOO_LONG} {max_bytes} bytes")
                continue
            if not line.data.strip():
                continue
            try:
                obj = json.loads(line.data.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield Reject(source=spec.source, locator=locator, reason=RejectReason.NOT_UTF8, message=str(exc))
                continue
            except (ValueError, RecursionError) as exc:  # JSONDecodeError, over-long integers, deep nesting
                yield Reject(source=spec.source, locator=locator, reason=RejectReason.MALFORMED_JSONL,
                             message=f"{type(exc).__name__}: {exc}"[:300])
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
    for group in range(parquet.num_row_groups):
        rows_in_group = parquet.metadata.row_group(group).num_rows
        try:
            rows = parquet.read_row_group(group).to_pylist()
        except (OSError, ValueError) as exc:  # pyarrow's errors for a damaged row group
            yield Reject(source=spec.source, locator=f"rows={row_number + 1}-{row_number + rows_in_group}",
                         reason=RejectReason.UNREADABLE_INPUT, message=f"row group {group}: {exc}")
            row_number += rows_in_group
            continue
        for row in rows:
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
    InputFormat.HL7: read_hl7,
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


def number_repeated_rejects(items: Iterable[Item]) -> Iterator[Item]:
    """A reject with the same locator and reason as an earlier one of this input (an id given three
    times, a zip naming one member twice) gets its occurrence number, hence a reject_id of its own:
    each is a record read, and the rejects table must hold one row for each."""
    seen: Counter = Counter()
    for item in items:
        if isinstance(item, Reject):
            key = (item.locator, item.reason)
            if seen[key]:
                item = item.model_copy(update={"occurrence": seen[key]})
            seen[key] += 1
        yield item


def read_input(spec: InputSpec, limits: IngestLimits) -> Iterator[Item]:
    """All records of one input; an input that cannot be opened at all, or whose format cannot be
    told (a README matched by a glob), becomes one reject."""
    if spec.format is None:
        yield Reject(source=spec.source, locator=spec.path, reason=RejectReason.NOT_A_REPORT,
                     message=spec.unknown_format or "unknown input format")
        return
    if spec.format is not InputFormat.FOLDER:
        try:
            mode = os.stat(spec.path).st_mode
        except OSError as exc:
            yield Reject(source=spec.source, locator=spec.path, reason=RejectReason.UNREADABLE_INPUT, message=str(exc))
            return
        if not stat.S_ISREG(mode):  # a FIFO or device would block or never end
            yield Reject(source=spec.source, locator=spec.path, reason=RejectReason.NOT_A_REGULAR_FILE,
                         message="input is not a regular file")
            return
    try:
        for item in number_repeated_rejects(reject_duplicates(READERS[spec.format](spec, limits))):
            yield replace(item, modality=spec.modality) if spec.modality and isinstance(item, SourceRecord) else item
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError, ValueError) as exc:
        yield Reject(source=spec.source, locator=spec.path, reason=RejectReason.UNREADABLE_INPUT,
                     message=f"{type(exc).__name__}: {exc}")
