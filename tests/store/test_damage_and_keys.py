"""Idempotency by key, containment, and an output store that survives damage without losing data."""

import errno
import os
import stat
import tempfile

import pytest
from conftest import run_cli
from etl_helpers import GOOD, ingest, write_good_folder

import radlite.store
from radlite.store import OutputStore


def _count(out, table):
    result = run_cli("sql", out, f'SELECT count(*) AS n FROM "{table}"', "--format", "csv")
    assert result.exit_code == 0, result.output
    return int(result.stdout.splitlines()[1])


def test_full_twice_and_an_edited_report_keep_one_current_row_per_report(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 3)
    (src / "bad.txt").write_text("")
    ingest([str(src)], out)
    ingest([str(src)], out, full=True)
    ingest([str(src)], out, full=True)
    (src / "r00001.txt").write_text("FINDINGS: Edited after an addendum.")
    ingest([str(src)], out)
    store = OutputStore(out)
    reports = store.read_table("reports").to_pylist()
    assert len(reports) == len({r["report_id"] for r in reports}) == 3
    assert next(r for r in reports if r["locator"] == "r00001.txt")["text"] == "FINDINGS: Edited after an addendum."
    assert store.read_table("rejects").num_rows == 1
    assert (_count(out, "reports"), _count(out, "rejects")) == (3, 1)
    assert _count(out, "reports_history") == 3 + 3 + 3 + 1 and _count(out, "runs") == 4


def test_same_base_name_in_two_folders_gives_distinct_ids_and_one_input_twice_is_read_once(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "r.txt").write_text(GOOD.format(n=folder))
    summary = ingest([str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "a")], str(tmp_path / "out"))
    assert (summary.read, summary.accepted) == (2, 2)
    ids = OutputStore(str(tmp_path / "out")).read_table("reports").column("report_id").to_pylist()
    assert len(set(ids)) == 2


@pytest.mark.parametrize("where", ["out", "inside", "parent"])
def test_an_input_overlapping_out_is_refused(tmp_path, where):
    out = tmp_path / "work" / "out"
    write_good_folder(str(tmp_path / "work" / "in"), 1)
    ingest([str(tmp_path / "work" / "in")], str(out))
    target = {"out": out, "inside": out / "tables", "parent": tmp_path / "work"}[where]
    result = run_cli("run", target, "--out", out, "--tasks", "none", "--quiet")
    assert result.exit_code == 1 and "overlaps the output directory" in result.stderr


def _damaged_out(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 4)
    ingest([str(src)], out)
    write_good_folder(str(src), 2, start=4)
    ingest([str(src)], out)
    return src, out


@pytest.mark.parametrize("damage", ["corrupt", "empty", "missing"])
def test_a_damaged_manifest_stops_the_run_deletes_nothing_and_repair_restores_it(tmp_path, damage):
    src, out = _damaged_out(tmp_path)
    data = sorted(os.listdir(os.path.join(out, "tables", "reports")))
    manifest = os.path.join(out, "manifest.json")
    if damage == "missing":
        os.remove(manifest)
    else:
        with open(manifest, "w") as fh:
            fh.write("{not json" if damage == "corrupt" else "")
    refused = run_cli("run", src, "--out", out, "--tasks", "none", "--quiet")
    assert refused.exit_code == 1 and "radlite repair" in refused.stderr and "Traceback" not in refused.output
    assert sorted(os.listdir(os.path.join(out, "tables", "reports"))) == data
    assert run_cli("sql", out, "SELECT 1").exit_code == 1
    repaired = run_cli("repair", out)
    assert repaired.exit_code == 0 and "2 runs" in repaired.stdout, repaired.output
    assert _count(out, "reports") == 6
    again = run_cli("run", src, "--out", out, "--tasks", "none", "--quiet")
    assert again.exit_code == 0 and _count(out, "reports") == 6 and _count(out, "runs") == 3


def test_a_deleted_data_file_is_reported_and_repair_drops_it(tmp_path):
    src, out = _damaged_out(tmp_path)
    store = OutputStore(out)
    os.remove(store.committed_files("reports")[-1])
    refused = run_cli("run", src, "--out", out, "--tasks", "none", "--quiet")
    assert refused.exit_code == 1 and "missing" in refused.stderr and "radlite repair" in refused.stderr
    assert run_cli("repair", out).exit_code == 0
    assert run_cli("run", src, "--out", out, "--tasks", "none", "--quiet", "--full").exit_code == 0
    assert _count(out, "reports") == 6


def test_disk_full_is_a_clear_error_with_the_previous_state_intact(tmp_path, monkeypatch):
    src, out = _damaged_out(tmp_path)
    write_good_folder(str(src), 1, start=6)

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(radlite.store, "_atomic_write_text", full)
    result = run_cli("run", src, "--out", out, "--tasks", "none", "--quiet")
    assert result.exit_code == 1 and "disk full" in result.stderr and "Traceback" not in result.output
    monkeypatch.undo()
    assert _count(out, "reports") == 6
    assert not os.listdir(os.path.join(out, ".staging"))


def test_links_in_out_are_refused_and_their_targets_untouched(tmp_path):
    src, out = _damaged_out(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.remove(os.path.join(out, ".lock"))
    os.symlink(victim, os.path.join(out, ".lock"))
    result = run_cli("run", src, "--out", out, "--tasks", "none", "--quiet")
    assert result.exit_code == 1 and ".lock is a link" in result.stderr
    assert victim.read_text() == "precious"
    os.remove(os.path.join(out, ".lock"))
    elsewhere = tmp_path / "elsewhere"
    os.rename(os.path.join(out, "tables", "rejects"), elsewhere)
    (elsewhere / "keep.parquet").write_text("not radlite's")
    os.symlink(elsewhere, os.path.join(out, "tables", "rejects"))
    result = run_cli("run", src, "--out", out, "--tasks", "none", "--quiet")
    assert result.exit_code == 1 and "tables/rejects is a link" in result.stderr
    assert (elsewhere / "keep.parquet").exists()


def test_out_files_follow_the_umask_so_a_team_can_share_them(tmp_path):
    old = os.umask(0o022)
    try:
        src, out = _damaged_out(tmp_path)
    finally:
        os.umask(old)
    for name in ("manifest.json", "catalog.duckdb"):
        assert stat.S_IMODE(os.stat(os.path.join(out, name)).st_mode) == 0o644, name


def test_a_run_leaves_no_beam_temp_folders_behind(tmp_path):
    before = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("beam-")}
    write_good_folder(str(tmp_path / "in"), 2)
    ingest([str(tmp_path / "in")], str(tmp_path / "out"), workers=2)
    after = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("beam-")}
    assert after <= before


def test_disk_full_while_the_pipeline_writes_is_one_line_without_a_traceback(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    import pipelines.etl

    src, out = tmp_path / "src", tmp_path / "out"
    write_good_folder(str(src), 3)

    class FullDisk(pq.ParquetWriter):
        def write_table(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipelines.etl.pq, "ParquetWriter", FullDisk)
    result = run_cli("run", src, "--out", out, "--tasks", "none")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "disk full" in result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.output
