"""The test-split ledger: the tools that score append to it, and only scorings of the test list by default."""

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from training.data.records import InstructionRecord, Tier
from training.eval.ledger import LEDGER, LedgerEntry, append, read_ledger, record_evaluation
from training.eval.records import Evaluation, TaskEvaluation

DATA = os.environ.get("RADLITE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))


def _evaluation(routing: str = "embedded") -> Evaluation:
    task = TaskEvaluation(metric="rouge_l", score=0.5, ci95=(0.4, 0.6), n=2, validity=1.0, model_id="m",
                          seconds_per_sample=0.0, samples=[])
    return Evaluation(routing=routing, split="test.jsonl", n=2, tasks={"impression_generation": task}, models={},
                      task_models={})


def _record(source: str, split: str) -> InstructionRecord:
    return InstructionRecord(id=f"{source}:1", task="impression_generation", input="x", output="y", source=source,
                             tier=Tier.GOLD, split=split)


def test_the_committed_ledger_reads_and_its_markdown_counts_every_line():
    entries = read_ledger(LEDGER)
    assert len(entries) >= 21 and all(e.split == "test" for e in entries)
    rendered = open(os.path.splitext(LEDGER)[0] + ".md").read()
    assert f"{len(entries)} so far" in rendered and rendered.count("\n| ") == len(entries) + 1


def test_the_docs_state_the_number_of_scorings_the_ledger_holds():
    """A doc that counts the test list's scorings says what the ledger says, wherever it says it."""
    lines = [line for line in open(LEDGER) if line.strip()]
    patterns = {"docs/quality/README.md": r"\*\*(\d+) scorings so far\*\*",
                "README.md": r"\((\d+) scorings, see the ledger\)"}
    stated = {doc: re.findall(pattern, open(os.path.join(ROOT, doc)).read()) for doc, pattern in patterns.items()}
    assert all(stated.values()), f"a count of scorings is missing: {stated}"
    wrong = {doc: counts for doc, counts in stated.items() if any(int(c) != len(lines) for c in counts)}
    assert not wrong, f"the ledger holds {len(lines)} scorings; the docs say {wrong}"


def test_no_doc_calls_a_test_list_figure_a_target_met():
    """The test list is a report, never a target (docs/quality/README.md)."""
    docs = [os.path.join(folder, name) for folder, _, names in os.walk(os.path.join(ROOT, "docs"))
            for name in names if name.endswith(".md")] + [os.path.join(ROOT, "README.md")]
    found = [os.path.relpath(p, ROOT) for p in docs if re.search(r"target[^.\n]{0,80}\bmet\b|target 0\.\d+ at",
                                                                     open(p).read(), re.I)]
    assert not found, f"a test-list figure called a target met in {found}"


def test_train_eval_records_a_scoring_only_when_the_split_holds_test_list_reports(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    validation = [_record("iu-xray", "validation"), _record("synthetic", "test")]
    assert record_evaluation([_evaluation()], validation, path) is None and not os.path.exists(path)
    assert record_evaluation([_evaluation(), _evaluation("embedded-base")], validation + [_record("iu-xray", "test")],
                             path) == 1
    [entry] = read_ledger(path)
    assert entry.tool == "train eval" and entry.n == 1
    assert entry.figures == {"impression_generation rouge_l": 0.5, "impression_generation rouge_l (embedded-base)": 0.5}
    assert "| 1 |" in open(tmp_path / "ledger.md").read()


def test_append_keeps_earlier_lines(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    first = LedgerEntry(date="2026-01-01T00:00:00Z", commit="abc", command="c", tool="t", n=1, figures={"f": 1.0})
    append(first, path)
    before = open(path).read()
    assert append(first.model_copy(update={"commit": "def"}), path) == 2
    assert open(path).read().startswith(before)


def test_quality_iu_appends_its_run_to_the_ledger_it_is_given(tmp_path):
    """A tiny run on the VALIDATION split (never the test list) written to a temporary ledger."""
    if not os.path.exists(os.path.join(DATA, "negbio", "openi_gld_std14.csv")):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must have ../shared/data", pytrace=False)
        pytest.skip("needs ../shared/data")
    ledger = str(tmp_path / "ledger.jsonl")
    result = subprocess.run([sys.executable, "benchmarks/quality_iu.py", "--data", DATA, "--split", "validation",
                             "--limit", "20", "--arms", "keywords", "--ledger", ledger], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    [entry] = read_ledger(ledger)
    assert entry.split == "validation" and entry.tool == "quality_iu" and entry.n == 20
    figures = entry.figures
    assert set(figures) == {"keywords micro-F1", "keywords micro-F1 CI95 low", "keywords micro-F1 CI95 high"}
    assert 0 <= figures["keywords micro-F1 CI95 low"] <= figures["keywords micro-F1"] <= figures[
        "keywords micro-F1 CI95 high"] <= 1
    assert "--ledger" in entry.command and json.loads(open(ledger).read())["commit"]
