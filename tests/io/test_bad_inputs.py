"""Malformed, hostile or unlucky inputs: each bad record is one precise reject, and reading goes on."""

import collections
import io
import json
import os
import struct
import tarfile
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from etl_helpers import GOOD, ingest

from radlite.store import OutputStore


def _reasons(out):
    return collections.Counter(r["reason"] for r in OutputStore(out).read_table("rejects").to_pylist())


def _locators(out):
    return sorted(r["locator"] for r in OutputStore(out).read_table("reports").to_pylist())


def _accounted(summary):
    assert summary.read == summary.accepted + summary.rejected
    return summary


def _zip_with_members(path, n=3):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            zf.writestr(f"r{i}.txt", GOOD.format(n=i) * 20)


def _patch(path, offset, data):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def _data_offset(path, name):
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", fh.read(4))
    return info, info.header_offset + 30 + name_len + extra_len


def test_corrupt_member_in_the_middle_of_a_zip_is_one_reject(tmp_path):
    path = tmp_path / "a.zip"
    _zip_with_members(path)
    info, start = _data_offset(path, "r1.txt")
    _patch(path, start + info.compress_size // 2, b"\xff\x00\xff\x00")
    summary = _accounted(ingest([str(path)], str(tmp_path / "out")))
    assert _reasons(str(tmp_path / "out")) == {"corrupt_member": 1}
    assert _locators(str(tmp_path / "out")) == ["r0.txt", "r2.txt"] and summary.accepted == 2


def test_encrypted_and_unsupported_members_are_rejected_and_the_rest_read(tmp_path):
    path = tmp_path / "a.zip"
    _zip_with_members(path)
    with zipfile.ZipFile(path) as zf:
        encrypted, unsupported = zf.getinfo("r0.txt"), zf.getinfo("r1.txt")
    # flag bit 0 (encrypted) in the central directory; compression method 98 (PPMd) for the other
    with open(path, "rb") as fh:
        raw = fh.read()
    for info, field, value in ((encrypted, 8, struct.pack("<H", 1)), (unsupported, 10, struct.pack("<H", 98))):
        central_entry = raw.find(info.filename.encode(), raw.find(b"PK\x01\x02")) - 46
        _patch(path, central_entry + field, value)
        _patch(path, info.header_offset + field - 2, value)  # the same field in the local header
    summary = _accounted(ingest([str(path)], str(tmp_path / "out")))
    assert _reasons(str(tmp_path / "out")) == {"encrypted_member": 1, "unsupported_compression": 1}
    assert _locators(str(tmp_path / "out")) == ["r2.txt"] and summary.accepted == 1


def test_non_utf8_file_names_in_folder_and_tar_are_rejected_by_name(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD.format(n=1))
    with open(os.path.join(os.fsencode(folder), b"bad-\xff.txt"), "w") as fh:
        fh.write(GOOD.format(n=2))
    tar_path = tmp_path / "a.tar.gz"
    with tarfile.open(tar_path, "w:gz", encoding="utf-8", errors="surrogateescape") as tf:
        for name, n in (("ok.txt", 3), ("bad-\udcff.txt", 4)):
            data = GOOD.format(n=n).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    summary = _accounted(ingest([str(folder), str(tar_path)], str(tmp_path / "out")))
    assert _reasons(str(tmp_path / "out")) == {"bad_filename": 2}
    assert summary.accepted == 2
    assert any("\\xff" in r["locator"] for r in OutputStore(str(tmp_path / "out")).read_table("rejects").to_pylist())


def test_dangling_link_and_fifo_in_a_folder_are_rejected_without_blocking(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"r{i}.txt").write_text(GOOD.format(n=i))
    os.symlink(folder / "gone.txt", folder / "dangling.txt")
    os.mkfifo(folder / "pipe.txt")
    os.symlink("/etc/hostname", folder / "outside.txt")
    fifo_input = tmp_path / "lone.txt"
    os.mkfifo(fifo_input)
    summary = _accounted(ingest([str(folder), str(fifo_input)], str(tmp_path / "out")))
    assert _reasons(str(tmp_path / "out")) == {"not_a_regular_file": 3, "unsafe_path": 1}
    assert summary.accepted == 3


def _csv(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_quoted_multiline_field_longer_than_128_kb_is_one_report(tmp_path):
    body = "FINDINGS:\n" + "\n".join(f"Line {i}, the lungs are clear." for i in range(6000))
    assert 128 * 1024 < len(body) < 512 * 1024
    path = _csv(tmp_path, "big.csv", f'id,text\nb1,"{body}"\nb2,"FINDINGS: short."\n')
    summary = _accounted(ingest([path], str(tmp_path / "out"), max_report_bytes=512 * 1024))
    assert summary.rejected == 0 and _locators(str(tmp_path / "out")) == ["id=b1", "id=b2"]


def test_bom_and_utf16_csv_read_every_row_once(tmp_path):
    text = 'id,text\nu1,"FINDINGS: clear."\nu2,"FINDINGS: effusion, small."\n'
    bom = _csv(tmp_path, "bom.csv", "\ufeff" + text)
    utf16 = _csv(tmp_path, "wide.csv", text, encoding="utf-16")
    for path in (bom, utf16):
        out = str(tmp_path / ("out-" + os.path.basename(path)))
        summary = _accounted(ingest([path], out))
        assert (summary.read, summary.rejected) == (2, 0) and _locators(out) == ["id=u1", "id=u2"]


@pytest.mark.parametrize("name, text", [
    # a European export: ";" between columns, the comma a decimal mark inside the report
    ("eu.csv", 'id;report\ne1;"FINDINGS: 1,5 cm nodule, right upper lobe."\ne2;FINDINGS: clear lungs, no effusion.\n'),
    ("ris.csv", "id|text\ne1|FINDINGS: 1,5 cm nodule, right upper lobe.\ne2|FINDINGS: clear lungs, no effusion.\n"),
    ("tabs.csv", "id\ttext\ne1\tFINDINGS: 1,5 cm nodule, right upper lobe.\ne2\tFINDINGS: clear lungs, no effusion.\n"),
])
def test_a_csv_export_with_another_delimiter_reads_its_columns(tmp_path, name, text):
    out = str(tmp_path / "out")
    summary = _accounted(ingest([_csv(tmp_path, name, text)], out))
    assert (summary.read, summary.rejected) == (2, 0) and _locators(out) == ["id=e1", "id=e2"]
    texts = sorted(r["text"] for r in OutputStore(out).read_table("reports").to_pylist())
    assert texts == ["FINDINGS: 1,5 cm nodule, right upper lobe.", "FINDINGS: clear lungs, no effusion."]


def test_a_comma_csv_with_semicolons_in_its_quoted_header_stays_comma(tmp_path):
    out = str(tmp_path / "out")
    summary = _accounted(ingest([_csv(tmp_path, "c.csv", '"ref;no",text\nc1,"FINDINGS: a; b; c."\n')], out))
    assert (summary.read, summary.rejected) == (1, 0)
    assert [r["text"] for r in OutputStore(out).read_table("reports").to_pylist()] == ["FINDINGS: a; b; c."]


def test_unbalanced_quote_rejects_one_row_and_keeps_the_rest(tmp_path):
    path = _csv(tmp_path, "q.csv", 'id,text\nq1,"FINDINGS: a.\nq2,"FINDINGS: b."\nq3,FINDINGS: 5" nodule.\n'
                                   'q4,"FINDINGS: two\nlines."\n')
    summary = _accounted(ingest([path], str(tmp_path / "out")))
    assert _reasons(str(tmp_path / "out")) == {"malformed_csv_row": 1}
    assert _locators(str(tmp_path / "out")) == ["id=q2", "id=q3", "id=q4"] and summary.read == 4


def test_non_string_values_are_bad_type_and_bad_json_lines_do_not_stop_the_file(tmp_path):
    lines = [{"id": "j1", "text": "FINDINGS: clear."}, {"id": "j2", "text": {"nested": 1}}, {"id": "j3", "text": 12},
             {"id": "j4", "text": ["a"]}]
    raw = "\n".join(json.dumps(o) for o in lines)
    raw += '\n{"id": "j5", "text": "\\ud800 lone"}\n{"id": "j6", "text": ' + "9" * 5000 + '}\n'
    raw += '{"id": "j7", "text": NaN}\n{"id": "j8", "text": "FINDINGS: last."}\n'
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(raw)
    parquet = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": [b"FINDINGS: bytes", b"x"]}), parquet)
    _accounted(ingest([str(jsonl), str(parquet)], str(tmp_path / "out")))
    assert _reasons(str(tmp_path / "out")) == {"bad_type": 6, "not_utf8": 1, "malformed_jsonl": 1}
    assert _locators(str(tmp_path / "out")) == ["id=j1", "id=j8"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_line_of_a_damaged_export_is_accounted_for(tmp_path, fmt):
    rows = [f'r{i},"FINDINGS: row {i}."' for i in range(50)]
    rows[10] = 'r10,"FINDINGS: stray'
    rows[30] = "r30,too,many,fields"
    text = "id,text\n" + "\n".join(rows) + "\n"
    if fmt == "jsonl":
        text = "\n".join(json.dumps({"id": f"r{i}", "text": f"FINDINGS: row {i}."}) for i in range(50))
        text = text.replace('"r10"', '"r10" oops', 1)
    path = _csv(tmp_path, f"x.{fmt}", text)
    summary = _accounted(ingest([path], str(tmp_path / "out")))
    assert summary.read == 50 and summary.accepted == 50 - summary.rejected
    assert summary.rejected == (2 if fmt == "csv" else 1)


def test_a_multi_megabyte_quoted_field_is_one_too_large_reject_and_the_next_rows_are_read(tmp_path):
    body = "FINDINGS:\n" + "\n".join(f"Line {i}, clear." for i in range(300_000))
    assert len(body) > 4 * 1024 * 1024
    path = _csv(tmp_path, "huge.csv", f'id,text\nh1,"{body}"\nh2,"FINDINGS: after."\nh3,FINDINGS: last.\n')
    summary = _accounted(ingest([path], str(tmp_path / "out"), max_report_bytes=256 * 1024))
    assert _reasons(str(tmp_path / "out")) == {"too_large": 1}
    assert _locators(str(tmp_path / "out")) == ["id=h2", "id=h3"] and summary.read == 3


def test_records_rejected_under_one_id_each_keep_a_rejects_row_in_the_catalog(tmp_path):
    from conftest import run_cli

    src = tmp_path / "src"
    src.mkdir()
    (src / "ids.csv").write_text("id,text\n1,FINDINGS: clear.\n1,FINDINGS: again.\n1,FINDINGS: and again.\n")
    with zipfile.ZipFile(src / "names.zip", "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for n in range(3):
            zf.writestr("same.txt", GOOD.format(n=n))
    out = tmp_path / "out"
    for _ in range(2):  # the rerun adds no reject twice
        assert run_cli("run", src / "ids.csv", src / "names.zip", "--out", out, "--tasks", "none",
                       "--quiet").exit_code == 0

    def sql(query):
        result = run_cli("sql", out, query, "--format", "csv")
        assert result.exit_code == 0, result.stderr
        return result.stdout.strip().splitlines()[1:]

    assert sql("SELECT reason, count(*) FROM rejects GROUP BY reason") == ["duplicate_id,4"]
    assert sql("SELECT count(DISTINCT reject_id) FROM rejects") == ["4"]
    first = sql("SELECT read, accepted, rejected FROM runs ORDER BY started_at LIMIT 1")[0]
    read, accepted, rejected = map(int, first.split(","))
    assert read == 6 and read == accepted + rejected
    assert sql("SELECT count(*) FROM reports") == [str(accepted)] and sql("SELECT count(*) FROM rejects") == [
        str(rejected)]
