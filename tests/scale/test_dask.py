"""The same pipeline on a real Dask scheduler with two worker processes (127.0.0.1 only)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SAMPLE_REPORTS, run_cli
from etl_helpers import table_rows

from radlite.store import OutputStore

distributed = pytest.importorskip("distributed")

TABLES_COMPARED = ("reports", "rejects", "rads")


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two single-threaded worker processes, torn down after the module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as local:
        yield local


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Thirteen records: sample_data's RADS export (ten reports, one broken line) and two planted bad ones."""
    src = tmp_path_factory.mktemp("dask-in")
    lines = [line for line in open(os.path.join(SAMPLE_REPORTS, "synthetic-rads.jsonl")) if line.strip()]
    (src / "reports.jsonl").write_text("".join(lines) + "{not json}\n" + json.dumps({"id": "x", "text": 3}) + "\n")
    return str(src / "reports.jsonl")


def _run(reports, out, *extra):
    result = run_cli("run", reports, "--out", out, "--tasks", "rads_assignment", "--routing", "embedded-base",
                     "--quiet", "--summary-json", out + ".json", *extra)
    assert result.exit_code == 0, result.output
    return json.load(open(out + ".json"))


def test_dask_run_equals_the_direct_run_with_each_record_and_model_load_once(cluster, reports, tmp_path):
    direct = _run(reports, str(tmp_path / "direct"))
    dask = _run(reports, str(tmp_path / "dask"), "--runner", "dask", "--dask-address", cluster.scheduler_address,
                "--dask_npartitions=4")
    for table in TABLES_COMPARED:
        rows = table_rows(str(tmp_path / "dask"), table)
        assert rows == table_rows(str(tmp_path / "direct"), table), table
        assert len(rows) == len(set(rows)), table
    assert dask["read"] == dask["accepted"] + dask["rejected"] == 13 and dask["rejected"] == 3
    assert {k: dask[k] for k in ("rows_by_table", "rejected_by_reason")} == {
        k: direct[k] for k in ("rows_by_table", "rejected_by_reason")}
    # both worker processes took records, and each loaded the model file once at most
    assert len(dask["model_loads_by_worker"]) == 2 and max(dask["model_loads_by_worker"].values()) == 1
    # inference ran exactly once per planned (report, task): every lookup missed the empty cache
    assert dask["cache_lookups"] - dask["cache_hits"] == dask["accepted"] == 10


def test_beam_style_dask_options_pass_through(cluster, reports, tmp_path):
    summary = _run(reports, str(tmp_path / "out"), "--runner", "apache_beam.runners.dask.dask_runner.DaskRunner",
                   f"--dask_client_address={cluster.scheduler_address}")
    assert summary["accepted"] == 10


def test_a_cluster_without_radlite_or_workers_is_a_clear_error(reports, tmp_path):
    result = run_cli("run", reports, "--out", tmp_path / "out", "--tasks", "none", "--runner", "dask",
                     "--dask-address", "tcp://127.0.0.1:9")
    assert result.exit_code == 1 and "cannot reach the Dask scheduler" in result.stderr
    missing = run_cli("run", reports, "--out", tmp_path / "out", "--runner", "dask")
    assert missing.exit_code == 64 and "--dask-address" in missing.stderr


def _worker_gone(client, address: str, pid: int, timeout: float = 60.0) -> list[dict]:
    """Wait until the killed worker's process is gone (or a zombie) and the scheduler has logged its
    unexpected removal; returns the scheduler's remove-worker events for that address."""
    psutil = pytest.importorskip("psutil")
    deadline = time.time() + timeout
    while time.time() < deadline:
        alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        removed = [msg for _, msg in client.get_events(address) if msg.get("action") == "remove-worker"]
        if not alive and removed:
            return removed
        time.sleep(0.1)
    raise AssertionError(f"worker {address} (pid {pid}) still alive or never removed by the scheduler")


def test_a_worker_killed_mid_run_then_a_rerun_leaves_no_duplicates_and_none_missing(cluster, reports, tmp_path):
    out = str(tmp_path / "out")
    client = distributed.Client(cluster.scheduler_address)
    address, pid = next(iter(client.run(os.getpid).items()))
    command = [sys.executable, "-m", "radlite_cli", "run", reports, "--out", out, "--tasks", "rads_assignment",
               "--routing", "embedded-base", "--quiet", "--runner", "dask", "--dask-address",
               cluster.scheduler_address, "--dask_npartitions=6"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    staging = os.path.join(out, ".staging")
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if any(name.startswith("bundle-") for _, _, files in os.walk(staging) for name in files):
            break
        time.sleep(0.05)
    # the event this test names: the run is still going (it has staged output) when a worker dies
    assert proc.poll() is None, "the run ended before a worker could be killed: nothing was tested"
    assert any(name.startswith("bundle-") for _, _, files in os.walk(staging) for name in files)
    os.kill(pid, signal.SIGKILL)
    removed = _worker_gone(client, address, pid)
    assert any(not msg.get("expected", True) for msg in removed), removed
    _, stderr = proc.communicate(timeout=300)
    client.close()
    # the killed run either recovered (Dask re-ran the lost tasks) or failed with a clear one-line error
    assert proc.returncode in (0, 1), stderr[-2000:]
    if proc.returncode == 1:
        assert stderr.startswith("error:") or "Error" in stderr
    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    reports_rows = OutputStore(out).read_table("reports").to_pylist()
    assert sorted(r["locator"] for r in reports_rows) == sorted({r["locator"] for r in reports_rows})
    assert len(reports_rows) == 10
    rads = OutputStore(out).read_table("rads", include_withheld=True).to_pylist()
    assert sorted(r["report_id"] for r in rads) == sorted(r["report_id"] for r in reports_rows)
