"""A run killed at any point leaves the previous state intact; the next run completes the work."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ROOT, run_cli, run_cli_process
from etl_helpers import ingest, run_killed_at, table_rows, write_good_folder

from pipelines.run import new_run_id
from radlite.store import OutputLocked, OutputStore


def _state(out):
    return {t: table_rows(out, t) for t in ("reports", "rejects")}


@pytest.mark.parametrize("step", ["after_pipeline", "commit_moving", "before_manifest", "before_catalog"])
def test_killed_run_then_rerun_has_no_duplicates_and_no_missing_reports(tmp_path, step):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 4)
    ingest([str(src)], out)
    committed = _state(out)
    write_good_folder(str(src), 3, start=4)
    assert run_killed_at(step, str(src), out) == 137
    if step != "before_catalog":
        # the previous state is what a reader sees, through the catalog too
        assert _state(out) == committed
        q = run_cli("sql", out, "select count(*) as n from reports", "--format", "csv")
        assert q.stdout.splitlines()[1] == "4"
    ingest([str(src)], out)
    reports = OutputStore(out).read_table("reports").to_pylist()
    assert sorted(r["locator"] for r in reports) == [f"r{i:05d}.txt" for i in range(7)]


def test_sigkill_mid_pipeline_then_rerun_completes(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 3000)
    proc = subprocess.Popen([sys.executable, "-m", "radlite_cli", "run", str(src), "--out", out, "--tasks", "none",
                             "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.isdir(os.path.join(out, ".staging")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert OutputStore(out).read_table("reports").num_rows in (0, 3000)
    assert run_cli("run", str(src), "--out", out, "--tasks", "none", "--quiet").exit_code == 0
    reports = OutputStore(out).read_table("reports").column("locator").to_pylist()
    assert len(reports) == len(set(reports)) == 3000


def test_second_concurrent_run_is_refused_with_a_clear_message(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 2)
    store = OutputStore(out)
    with store.locked():
        with pytest.raises(OutputLocked):
            with OutputStore(out).locked():
                pass
        result = run_cli_process("run", str(src), "--out", out, "--tasks", "none")
    assert result.returncode == 2
    assert "locked" in result.stderr


def test_run_ids_sort_in_start_order_within_one_second():
    """A nightly job that reruns at once must still find its newest run by sorting run ids."""
    first = datetime(2026, 11, 23, 22, 0, 0, 999_000, tzinfo=UTC)
    ids = [new_run_id(first + timedelta(microseconds=step)) for step in (0, 1, 500, 1_000)]
    assert ids == sorted(ids) and len(set(ids)) == 4
