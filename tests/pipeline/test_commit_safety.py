"""A run killed at any point leaves the previous state intact; the next run completes the work."""

import fcntl
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ROOT, run_cli, run_cli_process
from etl_helpers import ingest, run_killed_at, table_rows, write_good_folder

from radlite.store import MANIFEST, OutputLocked, OutputStore, new_run_id


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


def _staged_files(out) -> list[str]:
    return [name for _, _, files in os.walk(os.path.join(out, ".staging")) for name in files]


def _wait_for_lock_release(out, timeout: float = 30.0) -> None:
    """A killed child process lets go of OUT's lock when the kernel has finished it, a moment after its parent."""
    deadline = time.time() + timeout
    with open(os.path.join(out, ".lock")) as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                assert time.time() < deadline, "a killed run still holds the lock"
                time.sleep(0.05)


def test_sigkill_mid_pipeline_then_rerun_completes(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 3000)
    proc = subprocess.Popen([sys.executable, "-m", "radlite_cli", "run", str(src), "--out", out, "--tasks", "none",
                             "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while not _staged_files(out) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    # the state this test names: the run is alive and has staged output, and nothing is committed yet
    assert proc.poll() is None, "the run ended before it could be killed mid-pipeline: nothing was tested"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole run: the command and any child it runs the work in
    assert proc.wait() == -signal.SIGKILL
    _wait_for_lock_release(out)
    assert _staged_files(out), "killed before anything was staged"
    assert not os.path.exists(os.path.join(out, MANIFEST)), "killed after the commit, not mid-pipeline"
    # killed between staging and commit: a reader sees the previous state (none), not a partial run
    assert OutputStore(out).read_table("reports").num_rows == 0
    assert run_cli("run", str(src), "--out", out, "--tasks", "none", "--quiet").exit_code == 0
    assert not _staged_files(out)  # the killed run's staged files were cleared, not committed
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
    ids = [new_run_id(first + timedelta(microseconds=step), "etl") for step in (0, 1, 500, 1_000)]
    assert ids == sorted(ids) and len(set(ids)) == 4
