"""A run into OUT is one object (StoreRun): its id reads back as its start, it stages its rows, builds its
``runs`` row and commits both atomically, its row staged last."""

import json
import os
from datetime import UTC, datetime

import pyarrow.parquet as pq

from radlite.store import OutputStore, run_started

STARTED = datetime(2026, 12, 7, 11, 0, 0, 123_456, tzinfo=UTC)
#: The counts of a run that read nothing (every runs column that may not be null).
NOTHING_READ = {"read": 0, "accepted": 0, "accepted_new": 0, "skipped_unchanged": 0, "rejected": 0,
                "rejected_by_reason": {}, "rows_by_table": {}, "wall_seconds": 0.0, "reports_per_second": 0.0}


def _reject(run_id: str, n: int) -> dict:
    """A hand-written rejects row (synthetic)."""
    return {"reject_id": f"r{n}", "source": "src", "locator": f"line={n}", "reason": "empty",
            "message": "empty record", "run_id": run_id}


def test_a_run_id_reads_back_as_its_start_and_says_what_wrote_it(tmp_path):
    store = OutputStore(str(tmp_path))
    etl, review, again = (store.new_run(kind, STARTED) for kind in ("etl", "review", "etl"))
    assert run_started(etl.run_id) == run_started(review.run_id) == STARTED.replace(tzinfo=None)
    assert "-review-" in review.run_id and "-review-" not in etl.run_id
    assert etl.run_id != again.run_id  # two runs started at one instant (on two machines) stay apart


def test_a_run_commits_its_staged_rows_and_its_runs_row(tmp_path):
    store = OutputStore(str(tmp_path / "out"))
    run = store.new_run("etl", STARTED)
    rows = [_reject(run.run_id, n) for n in range(3)]
    with store.locked():
        store.recover()
        staged = {"rejects": run.stage_rows("rejects", rows)}
        counts = {**NOTHING_READ, "read": 3, "rejected": 3, "rejected_by_reason": {"empty": 3}, "not_a_column": 1}
        row = run.runs_row(counts, inputs=["src"], tasks=[], routing=None, options="{}")
        manifest = run.commit(staged, row)
    assert manifest.runs == [run.run_id]
    assert manifest.files["rejects"] == manifest.files["runs"] == [f"{run.run_id}-00000.parquet"]
    assert store.read_table("rejects").num_rows == 3
    (committed,) = store.read_table("runs").to_pylist()
    assert (committed["run_id"], committed["started_at"], committed["status"]) == (run.run_id, STARTED, "committed")
    assert committed["finished_at"] > STARTED and committed["read"] == 3
    assert json.loads(committed["rejected_by_reason"]) == {"empty": 3} and "not_a_column" not in committed
    assert not os.path.exists(run.staging_dir)  # the commit clears the run's staging folder


def test_derived_rows_are_staged_apart_and_cleared_by_their_commit(tmp_path):
    store = OutputStore(str(tmp_path / "out"))
    run = store.new_run("etl", STARTED)
    with store.locked():
        store.recover()
        run.commit({}, run.runs_row(NOTHING_READ, inputs=[], tasks=[], routing=None, options="{}"))
        staged = {"rejects": store.stage_derived(run.run_id, "rejects", [_reject(run.run_id, 1)]),
                  "runs": store.stage_derived(run.run_id, "runs", [])}
        assert staged["runs"] == [] and pq.read_metadata(staged["rejects"][0]).num_rows == 1
        store.commit_derived(run.run_id, staged, {"timeline_through": run.run_id})
    assert store.manifest().files["rejects"] == [f"{run.run_id}-00000.parquet"]
    assert not os.path.exists(os.path.dirname(staged["rejects"][0]))
