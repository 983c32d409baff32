"""Records found in bounded pieces: where a CSV record ends, and an over-long one costs the limit, not its size."""

import csv
import io
import json
import subprocess
import sys
import textwrap

import pytest

from radlite.io.bounded import read_csv_record, read_line


def _records(data: bytes, max_bytes=1 << 20, piece=4):
    fh = io.BytesIO(data)
    found = []
    while (record := read_csv_record(fh, ",", max_bytes, piece=piece)) is not None:
        found.append(record)
    return found


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 64 * 1024])
def test_record_ends_where_the_csv_module_ends_it_whatever_the_piece_size(piece):
    # quoted newlines, "" inside quotes (also split across pieces), a quote inside an unquoted
    # field, an empty quoted field, CRLF, and a last line without a newline
    text = ('id,text\r\n1,"two\nlines"\n2,"say ""hi""\n, then go"\n3,5" nodule,x\n4,"",\n'
            '5,"a ""quoted\n"" word"\n6,end')
    expected = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True)]
    found = _records(text.encode(), piece=piece)
    assert all(r.closed and r.data is not None for r in found)
    assert [next(csv.reader(io.StringIO(r.data.decode(), newline=""))) for r in found] == expected
    assert sum(r.size for r in found) == len(text.encode())


def test_a_quote_that_never_closes_is_reported_with_its_first_line():
    found = _records(b'1,"open\n2,b\n3,c\n', piece=3)
    assert len(found) == 1 and not found[0].closed and found[0].first_line == len(b'1,"open\n')


def test_an_over_long_record_is_dropped_but_measured_and_the_next_one_is_whole():
    data = b'1,"' + b"x\n" * 5000 + b'"\n2,after\n'
    first, second = _records(data, max_bytes=1000, piece=64)
    assert first.data is None and first.closed and first.size == len(data) - len(b"2,after\n")
    assert second.data == b"2,after\n"


def test_read_line_drops_an_over_long_line_and_keeps_the_next():
    fh = io.BytesIO(b"a" * 10_000 + b"\nshort\n")
    long_line, short = read_line(fh, 100, piece=64), read_line(fh, 100, piece=64)
    assert (long_line.data, long_line.size) == (None, 10_001) and short.data == b"short\n"
    assert read_line(fh, 100) is None


_PEAK = textwrap.dedent("""
    import json, resource, sys
    from radlite.io.inputs import ColumnMapping, expand_inputs
    from radlite.io.readers import read_input
    from radlite.io.records import IngestLimits, SourceRecord

    def read(path):
        return [(type(i).__name__, i.locator, getattr(i, "reason", None))
                for spec in expand_inputs([path], None, ColumnMapping()) for i in read_input(spec, IngestLimits())]

    read(sys.argv[2])  # warm up: imports and first-call allocations are not the big field's cost
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = read(sys.argv[1])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_kib": after - before, "items": items}))
""")

_FIELD = 50 * 1024 * 1024


def _peak(path, small):
    out = subprocess.run([sys.executable, "-c", _PEAK, str(path), str(small)], capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout)


def test_a_50_mb_csv_field_is_one_too_large_reject_read_in_bounded_memory(tmp_path):
    path, small = tmp_path / "big.csv", tmp_path / "small.csv"
    small.write_text('id,text\ns1,"FINDINGS: clear."\n')
    with open(path, "w") as fh:  # one line: a plain readline() would hold all of it
        fh.write('id,text\nr1,"FINDINGS: clear."\nr2,"FINDINGS: ')
        for _ in range(_FIELD // (1 << 20)):
            fh.write("clear, no effusion. " * ((1 << 20) // 20) + "x" * ((1 << 20) % 20))
        fh.write('"\nr3,"FINDINGS: after."\nr4,FINDINGS: last.\n')
    result = _peak(path, small)
    assert result["growth_kib"] < 30 * 1024, f"reading grew the peak by {result['growth_kib'] // 1024} MiB"
    assert [tuple(i) for i in result["items"]] == [
        ("SourceRecord", "id=r1", None), ("Reject", "row=2", "too_large"),
        ("SourceRecord", "id=r3", None), ("SourceRecord", "id=r4", None)]


def test_a_50_mb_jsonl_line_is_one_too_large_reject_read_in_bounded_memory(tmp_path):
    path, small = tmp_path / "big.jsonl", tmp_path / "small.jsonl"
    small.write_text(json.dumps({"id": "s1", "text": "FINDINGS: clear."}) + "\n")
    with open(path, "w") as fh:
        fh.write(json.dumps({"id": "j1", "text": "FINDINGS: clear."}) + "\n")
        fh.write('{"id": "j2", "text": "FINDINGS: ' + "no effusion " * (_FIELD // 12) + '"}\n')
        fh.write(json.dumps({"id": "j3", "text": "FINDINGS: after."}) + "\n")
    result = _peak(path, small)
    assert result["growth_kib"] < 30 * 1024, f"reading grew the peak by {result['growth_kib'] // 1024} MiB"
    assert [tuple(i) for i in result["items"]] == [
        ("SourceRecord", "id=j1", None), ("Reject", "line=2", "too_large"), ("SourceRecord", "id=j3", None)]
