"""Routing from real evidence (issue 33): the best evidence competes, a model must beat the rules and
the trivial baseline with the lower bound of its interval, and the shipped `embedded` table is what
`radlite train route` builds from the committed evaluations."""

import glob
import json
import os
import shutil

from conftest import ROOT

from radlite.routing import ModelEntry, embedded_model_path, load_routing
from training.data.records import InstructionRecord, Tier
from training.eval.evidence_sets import evidence_of, written_records
from training.eval.records import BaselineFigure, Evaluation, TaskEvaluation
from training.eval.trivial import baseline_figure
from training.route import build_routing, choose_routes

TASK = "n_staging"
EVIDENCE = os.path.join(ROOT, "training", "evidence")


def _evaluation(name: str, kind: str, score: float, ci95: tuple[float, float], evidence: str | None,
                baseline: float | None = None, task: str = TASK) -> Evaluation:
    figure = TaskEvaluation(metric="accuracy", score=score, ci95=ci95, n=50, validity=1.0, model_id=name,
                            seconds_per_sample=0.0, samples=[], evidence=evidence,
                            baseline=None if baseline is None else BaselineFigure(
                                name="most frequent reference answer", score=baseline, ci95=(baseline, baseline), n=50))
    return Evaluation(routing=name, split="validation", n=50, tasks={task: figure},
                      models={name: ModelEntry(kind=kind, path="/no/such.gguf")}, task_models={task: name},
                      test_list_records=0)


def _chosen(*evaluations: Evaluation) -> tuple[int | None, str, str]:
    choice = choose_routes(list(evaluations))[TASK]
    return choice.index, choice.evidence, choice.reason


def test_a_model_routes_only_where_its_lower_bound_beats_the_rules_and_the_baseline():
    rules = _evaluation("rules", "rules", 0.80, (0.70, 0.90), "written", baseline=0.30)
    # a higher score whose interval reaches below the rules' figure is not enough
    index, _, reason = _chosen(rules, _evaluation("model", "llama.cpp", 0.90, (0.78, 0.97), "written", 0.30))
    assert index == 0 and reason.startswith("rules")
    index, _, reason = _chosen(rules, _evaluation("model", "llama.cpp", 0.92, (0.85, 0.97), "written", 0.30))
    assert index == 1 and reason.startswith("model")
    # the same model against a baseline above its lower bound
    higher_bar = _evaluation("rules", "rules", 0.80, (0.70, 0.90), "written", baseline=0.88)
    index, _, reason = _chosen(higher_bar, _evaluation("model", "llama.cpp", 0.92, (0.85, 0.97), "written", 0.88))
    assert index == 0 and "do not beat the trivial baseline" in reason


def test_real_text_figures_outrank_synthetic_ones_whatever_they_say():
    synthetic_model = _evaluation("model", "llama.cpp", 1.0, (1.0, 1.0), "synthetic", 0.3)
    real_rules = _evaluation("rules", "rules", 0.70, (0.60, 0.80), "real", 0.3)
    assert _chosen(synthetic_model, real_rules)[:2] == (1, "real")
    # with synthetic figures only, they decide, and the manifest says so
    assert _chosen(synthetic_model, _evaluation("rules", "rules", 0.70, (0.6, 0.8), "synthetic", 0.3))[:2] == (
        0, "synthetic")
    # an evaluation that never recorded its evidence ranks below every recorded kind
    assert _chosen(_evaluation("old", "llama.cpp", 1.0, (1.0, 1.0), None), real_rules)[:2] == (1, "real")


def test_a_task_no_candidate_earns_is_left_out_and_the_manifest_says_why(tmp_path):
    """QA has no rules candidate: a model whose lower bound does not beat the trivial baseline gets no
    route, so a run skips the task rather than publish it; its figures stay in the manifest."""
    weak, strong = (_evaluation(name, "llama.cpp", score, ci, "real", 0.50, task="radiology_qa")
                    for name, score, ci in (("weak", 0.55, (0.45, 0.65)), ("strong", 0.70, (0.60, 0.80))))
    path = tmp_path / "weak" / "eval.json"
    path.parent.mkdir()
    path.write_text(weak.model_dump_json())
    table = build_routing([str(path)], str(tmp_path / "routing.yaml"), "t")
    assert "radiology_qa" not in table.tasks
    unrouted = table.manifest.unrouted["radiology_qa"]
    assert (unrouted.evidence, unrouted.n, unrouted.baseline_score) == ("real", 50, 0.50)
    assert unrouted.reason.startswith("none: no rules candidate")
    assert choose_routes([weak, strong])["radiology_qa"].index == 1


def test_the_trivial_baseline_is_the_best_constant_answer_on_the_same_records():
    records = [InstructionRecord(id=f"w{i}", task="radiology_nli", input="p", output=label, source="written",
                                 tier=Tier.GOLD, context={"premise": "No effusion.", "hypothesis": "h"})
               for i, label in enumerate(["entailment", "entailment", "entailment", "neutral"])]
    figure = baseline_figure(records, "radiology_nli")
    assert (figure.name, figure.score, figure.n) == ("most frequent reference answer", 0.75, 4)
    assert evidence_of(records[0]) == "written"


def test_the_written_sets_come_from_the_hand_written_fixtures_with_their_labels():
    records = written_records()
    counts = {task: sum(r.task == task for r in records) for task in ("rads_assignment", "n_staging", "m_staging")}
    assert counts == {"rads_assignment": 87, "n_staging": 70, "m_staging": 21}
    assert {evidence_of(r) for r in records} == {"written"}
    assert not any(r.report_key for r in records)  # none of them is an IU X-ray report


def _evaluations() -> list[str]:
    return sorted(glob.glob(os.path.join(EVIDENCE, "*", "eval.json")))


def test_route_on_the_committed_evaluations_reproduces_the_shipped_embedded_table(tmp_path):
    """The figures behind `embedded` are committed (hashes and scores, no IU text); rebuilding from them
    gives the same tasks -> models and the same evidence, figures and baselines in the manifest."""
    paths = _evaluations()
    assert paths, "no committed evaluations under training/evidence"
    assert all(Evaluation.load(p).test_list_records == 0 for p in paths)
    shipped = load_routing("embedded")
    built = build_routing(paths, str(tmp_path / "embedded.yaml"), "embedded", minimums=shipped.manifest)
    assert built.tasks == shipped.tasks
    for key in set(built.models) | set(shipped.models):
        a, b = built.models[key], shipped.models[key]
        assert (a.kind, [sha for _, sha in a.files()]) == (b.kind, [sha for _, sha in b.files()]), key
    for section in ("figures", "unrouted"):
        mine, theirs = getattr(built.manifest, section), getattr(shipped.manifest, section)
        assert set(mine) == set(theirs)
        for task in mine:
            assert mine[task].model_dump() == theirs[task].model_dump(), task
    assert {f.evidence for f in shipped.manifest.figures.values()} <= {"real", "written"}
    assert built.manifest.min_scores == shipped.manifest.min_scores


def test_an_evaluation_names_its_model_files_as_a_routing_table_does(tmp_path):
    """eval.json written on one machine routes on another: the embedded model by its scheme, other files
    relative to the evaluation (an absolute path from the machine that evaluated is found nowhere else)."""
    models = tmp_path / "here" / "models"
    models.mkdir(parents=True)
    (tmp_path / "here" / "ev").mkdir()
    (models / "adapter.gguf").write_bytes(b"GGUF adapter bytes")
    entry = ModelEntry.model_validate({"kind": "llama.cpp", "path": embedded_model_path(),
                                       "adapters": [{"path": str(models / "adapter.gguf")}]})
    evaluation = Evaluation(routing="r", split="validation", n=0, tasks={}, models={"m": entry}, task_models={})
    evaluation.write(str(tmp_path / "here" / "ev" / "eval.json"))
    written = json.loads((tmp_path / "here" / "ev" / "eval.json").read_text())["models"]["m"]
    assert written["path"] == "embedded:smollm2" and written["adapters"][0]["path"] == "../models/adapter.gguf"
    shutil.move(str(tmp_path / "here"), str(tmp_path / "elsewhere"))  # another checkout, another machine
    moved = Evaluation.load(str(tmp_path / "elsewhere" / "ev" / "eval.json")).models["m"]
    assert moved.path == embedded_model_path()
    assert [path for path, _ in moved.files()][1:] == [str(tmp_path / "elsewhere" / "models" / "adapter.gguf")]
