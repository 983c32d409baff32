"""End to end: README command 1 on the default routing (rules for every task that has them; NLI and QA
routed nowhere, and the summary says so), validity, the rows' makers, the result cache and model loads on the
model routing (embedded-model), exact published prompts."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import QUESTIONS, REFERENCE, ROOT, SAMPLE_REPORTS, run_cli

from radlite.routing import embedded_model_path, load_routing
from radlite.store import OutputStore
from radlite.tasks import TASKS

TASK_TABLES = sorted({t.table for t in TASKS.values()})
CONSTRAINED = ("rads_assignment", "n_staging", "m_staging", "radiology_nli", "abnormality_detection",
               "radiology_ner", "temporal_comparison")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One run of README command 1 (the default routing) over the whole of sample_data (shared below)."""
    out = str(tmp_path_factory.mktemp("sample") / "out")
    result = run_cli("run", SAMPLE_REPORTS + "/*", "--out", out, "--questions", QUESTIONS, "--summary-json",
                     out + ".json", "--quiet")
    assert result.exit_code == 0, result.output
    return out, json.load(open(out + ".json"))


def _task_rows(out):
    """Every current row the run wrote, withheld ones included (what rows_by_table counts)."""
    store = OutputStore(out)
    return {table: store.read_table(table, include_withheld=True).to_pylist() for table in TASK_TABLES}


def test_sample_run_fills_the_tables_of_every_routed_task_and_names_the_unrouted(sample_run):
    """The default routing sends no task to NLI or QA (below the trivial baseline on real text): their
    tables stay empty, and the summary counts the reports each applied to instead of saying nothing."""
    out, summary = sample_run
    rows = _task_rows(out)
    routing = load_routing("embedded")
    unrouted = set(TASKS) - set(routing.tasks)
    assert unrouted == {"radiology_nli", "radiology_qa"}
    filled = {t for t, r in rows.items() if r}
    assert filled == {TASKS[t].table for t in routing.tasks}, {t: len(r) for t, r in rows.items()}
    assert {r["task"] for table in rows.values() for r in table} == set(routing.tasks)
    assert set(summary["unrouted_by_task"]) == unrouted and all(n > 0 for n in summary["unrouted_by_task"].values())
    assert all("baseline" in summary["unrouted_reasons"][t] for t in unrouted)
    assert summary["read"] == summary["accepted"] + summary["rejected"]
    # the summary says how much of each table points at its words in the report, and what the rules answered
    assert set(summary["grounded_share"]) >= {"rads", "abnormalities", "entities", "temporal_changes"}
    assert summary["grounded_share"]["abnormalities"] == 1.0 and summary["rules_answered"] > 0


def _rows_by_maker(out) -> tuple[dict[str, int], dict[str, int], int, int]:
    """(rule-written rows per table, model-written rows per table, model rows, valid model rows)."""
    rules, model, valid = {}, {}, 0
    for table, rows in _task_rows(out).items():
        by_rules = [r for r in rows if r["model_id"].startswith("radlite-rules")]
        by_model = [r for r in rows if not r["model_id"].startswith("radlite-rules")]
        if by_rules:
            rules[table] = len(by_rules)
        if by_model:
            model[table] = len(by_model)
        valid += sum(r["valid"] for r in by_model)
    return rules, model, sum(model.values()), valid


def test_sample_run_matches_the_committed_golden_summary(sample_run):
    """README command 1 keeps its accounting and the rules' rows exactly, and the model's rows within
    bounds that hold on any CPU (tests/golden/, whose _about says why each part is what it is)."""
    out, summary = sample_run
    with open(os.path.join(ROOT, "tests", "golden", "sample_data_summary.json")) as fh:
        golden = json.load(fh)
    assert {k: summary[k] for k in golden["accounting"]} == golden["accounting"]
    rules, model, n_model, n_valid = _rows_by_maker(out)
    assert rules == golden["rule_rows"]
    assert set(model) == set(golden["model_rows"]), model
    outside = {t: (n, golden["model_rows"][t]) for t, n in model.items()
               if not golden["model_rows"][t][0] <= n <= golden["model_rows"][t][1]}
    assert not outside, f"model rows outside their bounds: {outside}"
    assert n_valid >= golden["model_valid_share"] * n_model, (n_valid, n_model)
    # the summary's own row counts agree with the tables
    assert all(summary["rows_by_table"][t] == rules.get(t, 0) + model.get(t, 0) for t in TASK_TABLES)


def test_grammar_constrained_tasks_are_all_valid(sample_run):
    """A model's constrained answer always parses; a rule-written row is valid, or says the report states
    no value the rules read (the default routes impressions and stages to the rules alone)."""
    out, _ = sample_run
    for rows in _task_rows(out).values():
        for row in rows:
            if row["model_id"].startswith("radlite-rules"):
                assert row["valid"] or row["error"].startswith("no_answer:"), (row["task"], row["error"])
            elif row["task"] in CONSTRAINED:
                assert row["valid"], (row["task"], row["raw_output"], row["error"])


def test_rows_say_which_model_and_prompt_made_them(sample_run):
    out, _ = sample_run
    routing = load_routing("embedded")
    for rows in _task_rows(out).values():
        for row in rows:
            labels = [routing.models[key].label() for key in routing.chain(row["task"])]
            assert row["model_id"] in labels
            if row["model_id"].startswith("radlite-rules@"):
                assert row["prompt_id"] == f"rules/{row['task']}@1"
            else:
                assert row["model_id"].startswith("SmolLM2-135M-Instruct.Q4_1.gguf")
                assert row["prompt_id"] == f"radlite-v1/{row['task']}@1"
            assert len(row["prompt_sha256"]) == 64


def test_every_report_has_rads_and_chest_radiographs_have_14_labels(sample_run):
    out, _ = sample_run
    store = OutputStore(out)
    reports = store.read_table("reports").to_pylist()
    rads_ids = {r["report_id"] for r in store.read_table("rads", include_withheld=True).to_pylist()}
    assert {r["report_id"] for r in reports} == rads_ids
    abn = store.read_table("abnormalities", include_withheld=True).to_pylist()
    per_report = {}
    for row in abn:
        per_report.setdefault(row["report_id"], set()).add(row["finding"])
    assert per_report and all(len(findings) == 14 for findings in per_report.values())


def test_incremental_rerun_adds_no_rows_and_a_new_report_adds_only_its_rows(sample_run, tmp_path):
    out, _ = sample_run
    before = {t: len(r) for t, r in _task_rows(out).items()}
    again = run_cli("run", SAMPLE_REPORTS + "/*", "--out", out, "--questions", QUESTIONS, "--quiet")
    assert again.exit_code == 0, again.output
    assert {t: len(r) for t, r in _task_rows(out).items()} == before
    extra = tmp_path / "new-report"
    extra.mkdir()
    (extra / "one.txt").write_text("EXAMINATION: CHEST (PA AND LAT)\nCOMPARISON: ___\nFINDINGS: New small right "
                                   "effusion.\nIMPRESSION: Small right effusion.")
    added = run_cli("run", SAMPLE_REPORTS + "/*", str(extra), "--out", out, "--questions", QUESTIONS, "--quiet")
    assert added.exit_code == 0, added.output
    newest = max(OutputStore(out).read_table("runs").column("run_id").to_pylist())
    after = _task_rows(out)
    new_rows = {t: [r for r in rows if r["run_id"] == newest] for t, rows in after.items()}
    assert {r["report_id"] for rows in new_rows.values() for r in rows} == {
        r["report_id"] for r in OutputStore(out).read_table("reports").to_pylist() if r["run_id"] == newest}
    assert len({r["report_id"] for rows in new_rows.values() for r in rows}) == 1
    assert {t: len(r) for t, r in after.items()} == {t: before[t] + len(new_rows[t]) for t in before}
    assert len(new_rows["abnormalities"]) == 14 and len(new_rows["rads"]) == 1


def _three_rads_reports(tmp_path):
    src = tmp_path / "reports.jsonl"
    lines = [line for line in open(os.path.join(SAMPLE_REPORTS, "synthetic-rads.jsonl")) if line.strip()][:3]
    src.write_text("".join(lines))
    return src


def test_rerun_costs_no_inference_and_adds_no_rows(tmp_path):
    """On the model routing, a --full rerun serves every model output from the result cache."""
    src, out = _three_rads_reports(tmp_path), str(tmp_path / "out")
    model_run = ("run", src, "--out", out, "--routing", "embedded-model", "--tasks", "radiology_ner", "--quiet")
    result = run_cli(*model_run, "--summary-json", str(tmp_path / "first.json"))
    assert result.exit_code == 0, result.output
    first = json.load(open(tmp_path / "first.json"))
    assert first["model_instances"] == 3 and first["completion_tokens"] > 0
    result = run_cli(*model_run, "--full", "--summary-json", str(tmp_path / "s.json"))
    assert result.exit_code == 0, result.output
    summary = json.load(open(tmp_path / "s.json"))
    # --full reprocesses every report, and every output comes from the result cache.
    assert summary["cache_lookups"] > 0 and summary["cache_hits"] == summary["cache_lookups"]
    assert summary["completion_tokens"] == 0
    assert summary["rows_by_table"] == first["rows_by_table"]


def test_the_summary_says_plainly_that_questions_found_no_route(tmp_path):
    """--questions on the default routing: QA runs nowhere, and the printed summary says so, with why."""
    result = run_cli("run", _three_rads_reports(tmp_path), "--out", tmp_path / "out", "--questions", QUESTIONS)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "not run: radiology_qa applied to 3 report(s) but routing embedded routes it nowhere" in said
    assert "trivial baseline" in said and "--routing embedded-model" in said


def test_each_model_is_loaded_once_per_worker(tmp_path):
    src = _three_rads_reports(tmp_path)
    code = f"""
import json, sys
sys.path.insert(0, {ROOT!r})
from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.inference import engine
tasks = TaskOptions(tasks="rads_assignment,m_staging,n_staging", routing="embedded-model")
config = RunConfig(inputs=expand_inputs([{str(src)!r}], None, ColumnMapping()),
                   out={str(tmp_path / 'out')!r}, tasks=tasks)
summary = run_etl(config)
print(json.dumps({{"loads": dict(engine.LOAD_COUNTS), "new": summary.accepted_new}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["new"] == 3
    # every model file the routed entries need (a base, or a base with its adapters merged in) loaded once
    assert report["loads"] and set(report["loads"].values()) == {1}


def test_paper_routing_sends_the_published_prompts_to_the_published_models(tmp_path):
    spec = json.load(open(REFERENCE))
    models = tmp_path / "models"
    models.mkdir()
    for name in ("qwen2.5-3b-radiology-Q4_K_M.gguf", "qwen3-4b-radiology-Q4_K_M.gguf"):
        shutil.copy(embedded_model_path(), models / name)
    report_text = ("EXAMINATION: CT ABDOMEN AND PELVIS\nHISTORY: colon cancer staging\nCOMPARISON: CT from ___.\n"
                   "FINDINGS: Liver: new 2 cm hypodense lesion. Lymph nodes: enlarged para-aortic node.\n"
                   "IMPRESSION: New hepatic metastasis. Nodal disease.")
    src = tmp_path / "in"
    src.mkdir()
    (src / "r1.txt").write_text(report_text)
    questions = tmp_path / "q.yaml"
    questions.write_text("questions:\n  - id: q1\n    question: Is there a liver lesion?\n")
    out = str(tmp_path / "out")
    result = run_cli("run", str(src), "--out", out, "--routing", "radlite-paper", "--models-dir", str(models),
                     "--tasks", ",".join(TASKS), "--questions", str(questions), "--quiet")
    assert result.exit_code == 0, result.output

    findings = "Liver: new 2 cm hypodense lesion. Lymph nodes: enlarged para-aortic node."
    fills = {
        "rads_assignment": report_text, "radiology_ner": report_text, "n_staging": report_text,
        "m_staging": report_text, "abnormality_detection": report_text,
        "impression_generation": findings, "temporal_comparison": findings,
        "radiology_qa": f"Is there a liver lesion?\n\nReport:\n{report_text}",
    }
    hypotheses = {"0": "New hepatic metastasis.", "1": "Nodal disease."}
    files = {"q25": "qwen2.5-3b-radiology-Q4_K_M.gguf", "q3": "qwen3-4b-radiology-Q4_K_M.gguf"}

    def expected_prompt(task, fill):
        user = spec["task_prompts"][task].replace("{report}", fill)
        return (f"<|im_start|>system\n{spec['system_prompt']}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
                f"<|im_start|>assistant\n")

    seen = set()
    for rows in _task_rows(out).values():
        for row in rows:
            task = row["task"]
            if task == "radiology_nli":
                fill = f"Premise: {findings}\nHypothesis: {hypotheses[str(row['sentence_index'])]}"
            else:
                fill = fills[task]
            digest = hashlib.sha256(expected_prompt(task, fill).encode()).hexdigest()
            assert row["prompt_sha256"] == digest, task
            assert row["model_id"] == files[spec["task_routes"][task]], task
            assert row["prompt_id"] == f"radlite-paper/{task}@1"
            seen.add(task)
    assert seen == set(TASKS)
