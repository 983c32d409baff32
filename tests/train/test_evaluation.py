"""Evaluation statistics, the routing builder, and the validation gate (hashes, GGUF, smoke scores)."""

import json
import math
import os
import shutil

import pytest
import yaml
from conftest import run_cli

from radlite.routing import embedded_model_path
from training.data.sources.synthetic import synthetic_records
from training.eval.report import compare, summarize
from training.eval.stats import (
    bootstrap_ci,
    mcnemar_test,
    nli_confusion,
    rads_analysis,
    wilcoxon_test,
)


def test_bootstrap_ci_brackets_the_mean_and_is_seeded():
    scores = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 5
    low, high = bootstrap_ci(scores)
    assert low < sum(scores) / len(scores) < high
    assert bootstrap_ci(scores) == (low, high)
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)


def test_mcnemar_and_wilcoxon_detect_a_consistent_difference():
    better = [True] * 30
    worse = [i % 3 == 0 for i in range(30)]
    assert mcnemar_test(worse, better)["p_value"] < 0.001
    assert mcnemar_test(better, better)["p_value"] == 1.0
    low, high = [0.1 * (i % 5) for i in range(30)], [0.1 * (i % 5) + 0.3 for i in range(30)]
    assert wilcoxon_test(low, high)["p_value"] < 0.001
    assert wilcoxon_test([0.5] * 10, [0.5] * 10)["p_value"] == 1.0


def test_rads_analysis_counts_undercall_overcall_and_validity():
    result = rads_analysis(["BI-RADS 3", "BI-RADS 5", "PI-RADS 4", "garbage", "BI-RADS 4A"],
                           ["BI-RADS 4B", "BI-RADS 2", "BI-RADS 4", "LI-RADS 5", "BI-RADS 4"])
    assert result.errors == {"undercall": 1, "overcall": 1, "wrong_system": 1, "safe": 1, "invalid": 1}
    assert result.validity == 0.8
    assert result.per_system_accuracy["BI-RADS"] == 0.0


def test_nli_confusion_rows_are_references():
    matrix = nli_confusion(["entailment", "neutral", "xyz"], ["entailment", "contradiction", "neutral"])
    assert matrix["entailment"]["entailment"] == 1
    assert matrix["contradiction"]["neutral"] == 1
    assert matrix["neutral"]["invalid"] == 1


@pytest.fixture(scope="module")
def smoke_split(tmp_path_factory):
    path = tmp_path_factory.mktemp("smoke") / "smoke.jsonl"
    records = [r for r in synthetic_records(40) if r.task in ("rads_assignment", "m_staging", "radiology_nli")][:9]
    path.write_text("".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in records))
    return str(path)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, smoke_split):
    """`radlite train eval` of the zero-shot routing on the smoke split: (out dir, eval.json)."""
    out = tmp_path_factory.mktemp("eval")
    # embedded-base: every task on the model, so the routed table has a model file to pin and tamper with
    result = run_cli("train", "eval", "--routing", "embedded-base", "--split", smoke_split, "--out", out)
    assert result.exit_code == 0, result.stderr
    evaluation = json.load(open(out / "eval.json"))
    assert {t["evidence"] for t in evaluation["tasks"].values()} == {"synthetic"}
    assert all(t["baseline"]["n"] == t["n"] for t in evaluation["tasks"].values())
    # These tests are about the table route writes and validate checks; three records per task cannot
    # put a model's lower bound above a baseline, so they route as an evaluation from before baselines
    # (tests/train/test_route_evidence.py tests that rule).
    for figures in evaluation["tasks"].values():
        figures["baseline"] = None
    (out / "eval.json").write_text(json.dumps(evaluation))
    return out, evaluation


def test_eval_route_validate_and_tamper(tmp_path, smoke_split, evaluated):
    eval_dir, evaluation = evaluated
    assert set(evaluation["tasks"]) == {"rads_assignment", "m_staging", "radiology_nli"}
    assert all(t["validity"] == 1.0 for t in evaluation["tasks"].values())  # grammar-constrained
    assert (eval_dir / "tasks.png").exists() and (eval_dir / "eval_report.md").exists()

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(embedded_model_path(), models / "base.gguf")
    routing_path = str(models / "routing.yaml")
    routed = run_cli("train", "route", eval_dir / "eval.json", "--out", routing_path,
                     "--smoke-set", smoke_split)
    assert routed.exit_code == 0, routed.stderr
    table = yaml.safe_load(open(routing_path))
    assert set(table["tasks"]) == {"rads_assignment", "m_staging", "radiology_nli"}
    assert all(len(m["sha256"]) == 64 for m in table["models"].values() if m["kind"] == "llama.cpp")
    assert set(table["manifest"]["min_scores"]) == set(table["tasks"])

    ok = run_cli("models", "validate", routing_path)
    assert ok.exit_code == 0, ok.stderr + ok.stdout

    # Tampering: the table pins the embedded file's hash; point it at a different file of the same name.
    key = next(k for k, m in table["models"].items() if m["kind"] == "llama.cpp")
    table["models"][key]["path"] = str(models / "base.gguf")
    with open(routing_path, "w") as fh:
        yaml.safe_dump(table, fh)
    assert run_cli("models", "validate", routing_path).exit_code == 0
    with open(models / "base.gguf", "r+b") as fh:
        fh.seek(os.path.getsize(models / "base.gguf") - 16)
        fh.write(b"\x00" * 16)
    failed = run_cli("models", "validate", routing_path)
    assert failed.exit_code == 1 and "sha256" in failed.stderr
    src = tmp_path / "in"
    src.mkdir()
    (src / "r.txt").write_text("FINDINGS: Normal.")
    refused = run_cli("run", str(src), "--out", str(tmp_path / "out"), "--routing", routing_path, "--quiet")
    assert refused.exit_code == 1 and "sha256" in refused.stderr
    allowed = run_cli("run", str(src), "--out", str(tmp_path / "out"), "--routing", routing_path, "--quiet",
                      "--allow-unvalidated", "--tasks", "rads_assignment")
    assert allowed.exit_code == 0, allowed.stderr


def test_validate_fails_when_a_task_is_below_its_minimum(tmp_path, smoke_split, evaluated):
    eval_dir, evaluation = evaluated
    routing_path = str(tmp_path / "routing.yaml")
    assert run_cli("train", "route", eval_dir / "eval.json", "--out", routing_path,
                   "--smoke-set", smoke_split).exit_code == 0
    table = yaml.safe_load(open(routing_path))
    table["manifest"]["min_scores"]["m_staging"] = 1.01  # no model can reach it
    with open(routing_path, "w") as fh:
        yaml.safe_dump(table, fh)
    failed = run_cli("models", "validate", routing_path)
    assert failed.exit_code == 1 and "m_staging" in failed.stderr
    assert evaluation["tasks"]["m_staging"]["n"] >= 1


def test_route_refuses_evaluations_of_the_test_list(tmp_path, smoke_split, evaluated):
    """The test list is scored for a report, never used to choose a route: an evaluation holding its
    records, or one that does not say, is refused."""
    eval_dir, evaluation = evaluated
    assert evaluation["test_list_records"] == 0  # SYNTHETIC smoke records
    for value, words in ((3, "scored 3 record(s) of the fixed IU X-ray test list"),
                         (None, "does not record whether its records come from the fixed test list")):
        path = tmp_path / f"eval-{value}.json"
        path.write_text(json.dumps({**evaluation, "test_list_records": value}))
        refused = run_cli("train", "route", path, "--out", tmp_path / f"routing-{value}.yaml")
        assert refused.exit_code != 0 and words in refused.output, refused.output
        assert not (tmp_path / f"routing-{value}.yaml").exists()


def test_minimums_come_from_a_baseline_or_the_policy_margin(tmp_path, evaluated):
    eval_dir, evaluation = evaluated
    baseline = {**evaluation, "routing": "embedded-base",
                "tasks": {t: {**v, "score": 0.1234} for t, v in evaluation["tasks"].items()}}
    (tmp_path / "base.json").write_text(json.dumps(baseline))
    routed = run_cli("train", "route", eval_dir / "eval.json", "--out", tmp_path / "with.yaml",
                     "--baseline", tmp_path / "base.json")
    assert routed.exit_code == 0, routed.output
    manifest = yaml.safe_load(open(tmp_path / "with.yaml"))["manifest"]
    assert set(manifest["min_scores"].values()) == {0.123} and "embedded-base" in manifest["min_scores_basis"]
    assert run_cli("train", "route", eval_dir / "eval.json", "--out", tmp_path / "margin.yaml").exit_code == 0
    manifest = yaml.safe_load(open(tmp_path / "margin.yaml"))["manifest"]
    figures = {t: f["score"] for t, f in manifest["figures"].items()}
    assert manifest["min_scores"] == {t: max(0.0, math.floor(round((s - 0.10) * 1000, 6)) / 1000)
                                      for t, s in figures.items()}
    assert "policy margin" in manifest["min_scores_basis"]


def test_compare_pairs_samples_by_id():
    from training.eval.predict import Prediction

    def preds(scores):
        return [Prediction(id=str(i), task="m_staging", model_id="m", raw="M0", valid=True, score=s, reference="M0",
                           seconds=0.1) for i, s in enumerate(scores)]

    class Routing:
        name, models, tasks = "r", {}, {}

    base = summarize(preds([0.0] * 20), Routing, "test")
    cand = summarize(preds([1.0] * 20), Routing, "test")
    result = compare(base, cand)["m_staging"]
    assert result.delta == 1.0 and result.test == "mcnemar" and result.p_value < 0.001


def test_committed_embedded_demo_validates():
    """The shipped embedded route: pinned hashes, GGUF metadata and smoke scores above the manifest."""
    from radlite.routing import load_routing

    table = load_routing("embedded")
    assert table.manifest.smoke_set and table.manifest.min_scores
    assert all(figures.evidence in ("real", "written") for figures in table.manifest.figures.values())
    result = run_cli("models", "validate")
    assert result.exit_code == 0, result.stderr + result.stdout
    assert "embedded: OK" in result.stdout


def _temporal_record(output: str):
    from training.data.records import InstructionRecord

    return InstructionRecord(id="t1", task="temporal_comparison", source="fixture", tier="silver", output=output,
                             input="COMPARISON: 2020-01-02.\nFINDINGS: The right pleural effusion has increased.")


def test_scored_answers_count_the_values_the_report_does_not_state():
    """A right change label on an invented finding scores 1 but is counted as ungrounded."""
    from training.eval.predict import scored

    record = _temporal_record('[["pleural effusion", "worsened"]]')
    stated = scored(record, "m", '[["pleural effusion", "worsened"]]', 0.0)
    invented = scored(record, "m", '[["pneumothorax", "worsened"]]', 0.0)
    assert stated.score == invented.score == 1.0
    assert (stated.claims, stated.grounded) == (1, 1)
    assert (invented.claims, invented.grounded) == (1, 0)


def _evaluation(name: str, kind: str, score: float, grounded_share: float | None):
    from radlite.routing import ModelEntry
    from training.eval.records import Evaluation, TaskEvaluation

    task = TaskEvaluation(metric="jaccard", score=score, ci95=(score, score), n=20, validity=1.0, model_id=name,
                          seconds_per_sample=0.0, samples=[], grounded_share=grounded_share)
    return Evaluation(routing=name, split="validation", n=20, tasks={"temporal_comparison": task},
                      models={name: ModelEntry(kind=kind, path="/no/such.gguf")},  # rules load no file
                      task_models={"temporal_comparison": name})


def test_routing_passes_over_a_better_scoring_candidate_that_invents_its_values():
    from training.route import choose_routes

    def chosen(evaluations, **options):
        return {task: choice.index for task, choice in choose_routes(evaluations, **options).items()}

    rules, model = _evaluation("rules", "rules", 0.90, 1.0), _evaluation("model", "llama.cpp", 1.0, 0.84)
    assert chosen([rules, model]) == {"temporal_comparison": 0}
    assert chosen([rules, model], min_grounded=0.0) == {"temporal_comparison": 1}
    # when no candidate reaches the floor, the score decides; a candidate claiming nothing does not count as grounded
    silent = _evaluation("silent", "rules", 0.0, None)
    assert chosen([silent, _evaluation("model", "llama.cpp", 0.5, 0.55)]) == {"temporal_comparison": 1}
