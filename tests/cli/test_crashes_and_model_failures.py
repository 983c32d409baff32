"""A model that crashes or fails: one line and exit 1 for a crash (nothing committed, lock released),
exit 4 past --max-model-error-rate, and failed instances planned again by the next run, once."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from etl_helpers import write_good_folder
from model_fakes import BEHAVIOUR, ROUTING

from radlite.store import OutputStore


def fake_radlite(*args, behaviour: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``radlite ARGS`` in a new process whose models are model_fakes.FakeModel doing ``behaviour``."""
    env = {**os.environ, BEHAVIOUR: behaviour, "PYTHONPATH": os.path.join(ROOT, "tests")}
    return subprocess.run([sys.executable, "-c", "import model_fakes; model_fakes.main()", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


@pytest.fixture
def routed(tmp_path):
    routing = tmp_path / "fake.yaml"
    routing.write_text(ROUTING)
    src = tmp_path / "src"
    write_good_folder(str(src), 4)
    return src, tmp_path / "out", routing


def _run(src, out, routing, behaviour, *extra):
    return fake_radlite("run", src, "--out", out, "--routing", routing, "--tasks", "n_staging", "--quiet", *extra,
                        behaviour=behaviour)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_that_segfaults_is_one_line_exit_1_and_leaves_the_committed_state(routed, workers):
    src, out, routing = routed
    assert _run(src, out, routing, "ok").returncode == 0
    manifest = (out / "manifest.json").read_text()
    write_good_folder(str(src), 3, start=10)

    crashed = _run(src, out, routing, "segfault", "--workers", workers)

    lines = crashed.stderr.strip().splitlines()
    assert crashed.returncode == 1, crashed.stderr
    assert len(lines) == 1 and lines[0].startswith("error: llama.cpp crashed (SIGSEGV) evaluating routing entry "
                                                   "'fake-model.gguf'"), crashed.stderr
    assert "radlite doctor" in lines[0] and "Traceback" not in crashed.stderr
    assert (out / "manifest.json").read_text() == manifest
    assert not os.listdir(out / ".staging")
    again = _run(src, out, routing, "ok")  # the lock died with the crashed run
    assert again.returncode == 0, again.stderr
    assert OutputStore(str(out)).read_table("reports").num_rows == 7


def test_model_failures_exit_4_and_the_next_run_retries_them_once(routed, tmp_path):
    src, out, routing = routed
    summary = tmp_path / "summary.json"
    failed = _run(src, out, routing, "fail", "--summary-json", summary)
    assert failed.returncode == 4, failed.stderr
    assert failed.stderr.startswith("error: 4/4 task instances failed in the model, more than "
                                    "--max-model-error-rate 0.05")
    staging = OutputStore(str(out)).read_table("staging")
    assert staging.num_rows == 4 and not any(staging.column("valid").to_pylist())
    errors = staging.column("error").to_pylist()
    assert all(e.startswith("model_error: RuntimeError: fake llama.cpp failure") for e in errors)

    retried = _run(src, out, routing, "ok", "--summary-json", summary)
    assert retried.returncode == 0, retried.stderr
    figures = json.loads(summary.read_text())
    assert figures["model_retried"] == 4 and figures["model_errors"] == 0 and figures["accepted_new"] == 4
    rows = OutputStore(str(out)).read_table("staging", include_withheld=True).to_pylist()
    assert sorted(r["report_id"] for r in rows) == sorted({r["report_id"] for r in rows})  # one row each
    assert all(r["valid"] and r["n_stage"] == "N1" for r in rows)

    settled = _run(src, out, routing, "ok", "--summary-json", summary)
    assert settled.returncode == 0 and json.loads(summary.read_text())["model_retried"] == 0
    assert json.loads(summary.read_text())["accepted_new"] == 0


def test_a_deterministic_overflow_is_not_retried_until_the_context_grows():
    from pipelines.retry import FailedInstance, worth_retrying
    from radlite.routing import RoutingTable

    table = RoutingTable(**__import__("yaml").safe_load(ROUTING))
    entry_id = table.models["fake"].label()
    overflow = FailedInstance("r1", "n_staging", entry_id, "context_overflow: ValueError: too long (n_ctx=4096; "
                                                            "raise n_ctx ...)", attempts=1)
    assert not worth_retrying(overflow, table)
    bigger = table.model_copy(update={"models": {"fake": table.models["fake"].model_copy(update={"n_ctx": 8192})}})
    assert worth_retrying(overflow, bigger)
    transient = FailedInstance("r1", "n_staging", entry_id, "model_error: RuntimeError: x", attempts=2)
    assert worth_retrying(transient, table)
    assert not worth_retrying(FailedInstance(**{**transient.__dict__, "attempts": 3}), table)
