"""radlite review import: a wrong id, a duplicate, another OUT or an older sample fail with one line and
import nothing; a good file is committed as review_verdicts with a runs row; the gate reads it."""

import json
import os
import shutil

import pytest
from conftest import SAMPLE_REPORTS, run_cli
from review_helpers import draw_sample, rule_out, write_csv

from radlite.errors import ExitCode
from radlite.store import OutputStore


@pytest.fixture(scope="module")
def base_out(tmp_path_factory):
    return rule_out(str(tmp_path_factory.mktemp("review") / "out"))


@pytest.fixture
def out(base_out, tmp_path):
    """A fresh copy of the reviewed OUT (the same OUT: its runs are the same)."""
    shutil.copytree(base_out, tmp_path / "out")
    return str(tmp_path / "out")


def _rows(sample, verdict="correct"):
    return [{"sample_id": sample["sample_id"], "out_id": sample["out_id"], "item_id": i["item_id"],
             "verdict": verdict, "reviewed_at": "2025-01-02T03:04:05.000Z"} for i in sample["items"]]


def _state(out):
    store = OutputStore(out)
    return store.manifest().runs, store.read_table("review_verdicts").num_rows


def _refused(out, path, *extra):
    before = _state(out)
    result = run_cli("review", "import", out, path, "--reviewer", "ana", *extra)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _state(out) == before  # nothing imported, no run committed
    return result.output


def test_bad_verdict_files_fail_with_one_line_and_import_nothing(out, tmp_path):
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "12", "--seed", "3")
    good = _rows(sample)

    wrong = [dict(good[0], item_id="0123456789abcdef"), *good[1:]]
    assert "item id '0123456789abcdef' is not in sample" in _refused(out, write_csv(tmp_path / "w.csv", wrong))

    twice = [*good, dict(good[3], verdict="incorrect")]
    assert f"item {good[3]['item_id']} is marked twice" in _refused(out, write_csv(tmp_path / "d.csv", twice))

    bad_verdict = [dict(good[0], verdict="maybe")]
    assert "verdict 'maybe' is not one of" in _refused(out, write_csv(tmp_path / "v.csv", bad_verdict))

    older = json.load(open(tmp_path / "page" / "sample.json"))
    older["items"][0]["model_id"] = "an-older-model.gguf"
    with open(tmp_path / "older.json", "w") as fh:
        json.dump(older, fh)
    message = _refused(out, write_csv(tmp_path / "g.csv", good), "--sample", str(tmp_path / "older.json"))
    assert "changed since" in message and "draw a new sample" in message


def test_verdicts_from_another_out_are_refused(out, tmp_path):
    other = rule_out(str(tmp_path / "other"), os.path.join(SAMPLE_REPORTS, "synthetic-rads.jsonl"))
    sample = draw_sample(other, str(tmp_path / "page"), "--sample", "5")
    assert "another OUT" in _refused(out, write_csv(tmp_path / "v.csv", _rows(sample)))
    no_out_id = [dict(r, out_id="") for r in _rows(sample)]
    assert "was not drawn from" in _refused(out, write_csv(tmp_path / "n.csv", no_out_id))


def test_import_commits_verdicts_once_and_the_gate_reads_them(out, tmp_path):
    gate = ("review", "gate", out, "--table", "abnormalities", "--min-precision")
    assert run_cli(*gate, "0.1").exit_code == ExitCode.REVIEW_STALE  # nothing reviewed yet
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "8", "--table", "abnormalities",
                         "--stratify", "status")
    path = write_csv(tmp_path / "v.csv", _rows(sample))
    result = run_cli("review", "import", out, path, "--reviewer", "ana")
    assert result.exit_code == 0, result.output
    assert "imported 8 verdicts" in result.output
    store = OutputStore(out)
    verdicts = store.read_table("review_verdicts").to_pylist()
    assert len(verdicts) == 8 and {v["reviewer"] for v in verdicts} == {"ana"}
    run = store.read_table("runs").to_pylist()[-1]
    assert run["run_id"] == verdicts[0]["run_id"] and json.loads(run["rows_by_table"])["review_verdicts"] == 8

    assert "already has verdicts on 8" in _refused(out, path)
    again = run_cli("review", "import", out, path, "--reviewer", "ana", "--replace")
    assert again.exit_code == 0 and store.read_table("review_verdicts").num_rows == 8

    # every claim correct: precision's lower bound is the Wilson bound of n of n
    passed = run_cli(*gate, "0.3")
    assert passed.exit_code == ExitCode.OK and "abnormalities passes" in passed.output
    below = run_cli(*gate, "0.99")
    assert below.exit_code == ExitCode.REVIEW_BELOW and "lower bound" in below.output
    sql = run_cli("sql", out, "SELECT count(*) AS n FROM review_verdicts", "--format", "json")
    assert json.loads(sql.output)[0]["n"] == 8
