"""The smoke set shipped in the package is SYNTHETIC; eval outputs keep answers as hashes, never text."""

import json
import os

from conftest import ROOT

from radlite.hashing import text_sha256
from training.data.build import load_split
from training.data.records import InstructionRecord, Tier
from training.data.smoke_set import shippable
from training.eval.records import SampleScore

SMOKE = os.path.join(ROOT, "radlite", "routing", "embedded-smoke.jsonl")


def test_the_shipped_smoke_set_is_synthetic_with_twenty_records_per_task():
    records = load_split(SMOKE)
    assert all(r.synthetic and r.id.startswith("synthetic-") and r.source == "synthetic" for r in records)
    assert not any(r.report_key for r in records)
    counts = {}
    for r in records:
        counts[r.task] = counts.get(r.task, 0) + 1
    assert len(counts) == 9 and set(counts.values()) == {20}


def test_real_records_are_replaced_by_synthetic_ones_of_the_same_task():
    real = [InstructionRecord(id=f"iu-xray:CXR{i}:temporal", task="temporal_comparison", input="r", output="[]",
                              source="iu-xray", tier=Tier.SILVER, report_key=f"CXR{i}") for i in range(3)]
    kept = load_split(SMOKE)[:2]
    out = shippable(kept + real)
    assert out[:2] == kept
    assert [r.task for r in out[2:]] == ["temporal_comparison"] * 3
    assert all(r.synthetic and r.id.startswith("synthetic-smoke-") for r in out[2:])
    assert len({r.id for r in out}) == 5


def test_sample_scores_store_the_answer_as_a_hash():
    score = SampleScore.of(id="iu-xray:CXR1:impression", score=1.0, valid=True, raw="No acute disease.")
    stored = json.loads(score.model_dump_json())
    assert "raw" not in stored and stored["raw_sha256"] == text_sha256("No acute disease.")
    # an eval.json written before answers were hashed reads as the same hash
    legacy = SampleScore.model_validate({"id": "x", "score": 1.0, "valid": True, "raw": "No acute disease."})
    assert legacy == score.model_copy(update={"id": "x"})


def test_committed_eval_outputs_hold_no_answer_text():
    for folder in ("test-eval", "test-eval-vs-base"):
        for name in ("eval.json", "baseline_eval.json"):
            path = os.path.join(ROOT, "docs", "embedded-model", folder, name)
            if os.path.exists(path):
                assert '"raw":' not in open(path).read(), path
