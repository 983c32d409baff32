"""Hostile inputs nobody planted on purpose: each is accounted for (read = accepted + rejected), with a
reason that says what was wrong, and none hangs, crashes or stores text it should not."""

import codecs
import collections
import io
import json
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from etl_helpers import GOOD, ingest

from radlite.io import readers
from radlite.io.inputs import detect_format
from radlite.store import OutputStore


def _run(tmp_path, paths, **kwargs):
    out = str(tmp_path / "out")
    summary = ingest([str(p) for p in paths], out, **kwargs)
    assert summary.read == summary.accepted + summary.rejected
    store = OutputStore(out)
    rejects = {r["locator"]: r for r in store.read_table("rejects").to_pylist()}
    reports = {r["locator"]: r for r in store.read_table("reports").to_pylist()}
    return summary, rejects, reports


def _tar(path, members, mode):
    """A tar of (name, size, data stream) members."""
    with tarfile.open(path, mode) as tf:
        for name, size, data in members:
            info = tarfile.TarInfo(name)
            info.size = size
            tf.addfile(info, data)


def test_a_tiny_compressed_tar_declaring_a_huge_member_stops_at_its_inflation_budget(tmp_path, monkeypatch):
    # Before: tarfile's own decompression copied the rest of a whole inflated chunk after every 16 KB
    # read; a 1.6 KB .tar.bz2 declaring a 2 GB member ran for over 13 minutes.
    monkeypatch.setattr(readers, "MIN_TAR_INFLATION", 1 << 20)
    good = GOOD.format(n=1).encode()
    for mode in ("w:gz", "w:bz2", "w:xz"):
        path = tmp_path / f"bomb-{mode[2:]}.tar"
        _tar(path, [("ok.txt", len(good), io.BytesIO(good)), ("big.txt", 8 << 20, io.BytesIO(bytes(8 << 20))),
                    ("after.txt", len(good), io.BytesIO(good))], mode)
        assert path.stat().st_size < 20_000
        summary, rejects, reports = _run(tmp_path / mode[2:], [path])
        assert set(reports) == {"ok.txt"}
        assert rejects["big.txt"]["reason"] == "compression_bomb"
        assert rejects[str(path)]["reason"] == "compression_bomb"
        assert "not read further" in rejects[str(path)]["message"] and summary.read == 3


def test_tar_gz_bz2_xz_of_a_single_report_read_and_a_lone_gz_is_a_clear_error(tmp_path):
    good = GOOD.format(n=2).encode()
    paths = []
    for suffix, mode in ((".tgz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz")):
        paths.append(tmp_path / f"one{suffix}")
        _tar(paths[-1], [(f"r{suffix}.txt", len(good), io.BytesIO(good))], mode)
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(paths[0].read_bytes()[:40])
    lone = tmp_path / "report.txt.gz"
    lone.write_bytes(b"\x1f\x8b")
    summary, rejects, reports = _run(tmp_path, [*paths, truncated, lone])
    assert summary.accepted == 3 and rejects[str(truncated)]["reason"] == "unreadable_input"
    assert "single compressed file" in rejects[str(lone)]["message"]
    with pytest.raises(ValueError, match="single compressed file"):
        detect_format(str(lone))


def test_a_glob_that_also_matches_files_of_no_known_format_rejects_them_and_reads_the_rest(tmp_path):
    """A README or a notes.docx beside the exports is one not_a_report reject each, saying why; the run
    goes on with the inputs it can read."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(GOOD.format(n=3))
    (tmp_path / "in" / "README").write_text("exports of the night")
    (tmp_path / "in" / "notes.docx").write_bytes(b"PK\x03\x04")
    summary, rejects, reports = _run(tmp_path, [tmp_path / "in" / "*"])
    assert (summary.read, summary.accepted, summary.rejected) == (3, 1, 2)
    for name in ("README", "notes.docx"):
        reject = rejects[str(tmp_path / "in" / name)]
        assert reject["reason"] == "not_a_report" and "cannot tell the format" in reject["message"]


def test_text_encodings_line_endings_and_controls_are_normalised_or_rejected(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = GOOD.format(n=3)
    files = {
        "utf16.txt": good.encode("utf-16"),
        "utf16be.txt": codecs.BOM_UTF16_BE + good.encode("utf-16-be"),
        "crlf.txt": good.replace("\n", "\r\n").encode(),
        "cr.txt": good.replace("\n", "\r").encode(),
        "escape.txt": good.replace("Lungs", "Lu\x1bngs\x07").encode(),
        "late-nul.txt": good.encode() * 40 + b"\x00",  # past the first 4 KiB
        "invisible.txt": " \u200b\ufeff\u2060 \n".encode(),
        "latin1.txt": "FINDINGS: opacit\u00e9.".encode("latin-1"),
        "png.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    summary, rejects, reports = _run(tmp_path, [folder], max_report_bytes=64 * 1024)
    assert {k: v["reason"] for k, v in rejects.items()} == {
        "late-nul.txt": "binary", "invisible.txt": "empty", "latin1.txt": "not_utf8", "png.txt": "binary"}
    for name in ("utf16.txt", "utf16be.txt", "crlf.txt", "cr.txt"):
        assert reports[name]["text"] == good and reports[name]["impression"] == "No acute process. 3"
    assert reports["escape.txt"]["text"] == good.replace("Lungs", "Lu ngs ")
    assert summary.read == len(files)


def test_nul_and_invisible_text_in_tabular_exports_are_rejected(tmp_path):
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join(json.dumps(o) for o in (
        {"id": "j1", "text": "FINDINGS: a\u0000b"}, {"id": "j2", "text": "\u200b\u200b"},
        {"id": "j3", "text": "FINDINGS: clear."})) + "\n")
    csv = tmp_path / "a.csv"
    csv.write_bytes(b"id,text\nc1,FINDINGS: a\x00b\nc2,FINDINGS: clear.\n")
    summary, rejects, reports = _run(tmp_path, [jsonl, csv])
    assert {k: v["reason"] for k, v in rejects.items()} == {"id=j1": "binary", "id=j2": "empty", "id=c1": "binary"}
    assert set(reports) == {"id=j3", "id=c2"}


def test_ids_and_names_with_hidden_characters_or_a_megabyte_are_bad_id(tmp_path):
    ids = ["a\u202eb", "c\u200b", "d\x00e", "x" * 1_000_000, "plain"]
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": ids, "text": ["FINDINGS: clear."] * len(ids)}), path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "rtl\u202etxt.exe.txt").write_text(GOOD.format(n=4))
    summary, rejects, reports = _run(tmp_path, [path, folder])
    assert set(reports) == {"id=plain"}
    assert collections.Counter(r["reason"] for r in rejects.values()) == {"bad_id": 5}
    assert max(len(locator) for locator in rejects) < 300  # the megabyte id is not stored whole
    assert any("U+202E" in r["message"] for r in rejects.values())
    assert summary.read == 6
