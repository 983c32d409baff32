"""Converters on fixtures written in each dataset's published format, curation, and build-data."""

import json
import os

import pytest
from conftest import ROOT, run_cli

from radlite.tasks import TASKS
from training.data.build import SOURCES, build_data
from training.data.curation import CurationConfig, curate
from training.data.records import InstructionRecord, Tier, record_prompt, valid_output
from training.data.sources.merlin import screen_m_stage, screen_n_stage
from training.data.sources.synthetic import synthetic_records

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "sources")
FIXTURE_OF = {
    "mimic-cxr": "mimic-cxr", "ct-rate": "ct_rate.csv", "radgraph2": "radgraph.json", "chexbert": "chexbert.csv",
    "radnli": "radnli.jsonl", "merlin": "merlin.csv", "multi-rads": "multi_rads.jsonl", "medqa": "medqa.jsonl",
    "llava-med": "llava_med.json",
}


def convert(kind):
    return list(SOURCES[kind](os.path.join(FIXTURES, FIXTURE_OF[kind])))


def test_mimic_cxr_pairs_findings_with_impression():
    records = convert("mimic-cxr")
    assert len(records) == 1  # the second study has no findings section
    assert records[0].id == "mimic-cxr:50414267"
    assert records[0].input.startswith("There is no focal consolidation")
    assert records[0].output == "No acute cardiopulmonary process."


def test_ct_rate_uses_findings_and_impressions_columns_and_skips_empty():
    records = convert("ct-rate")
    assert [r.output for r in records] == ["Right upper lobe 4 mm nodule.", "Left lower lobe pneumonia."]


def test_radgraph2_gives_entities_in_order_and_change_labels():
    records = convert("radgraph2")
    ner = [r for r in records if r.task == "radiology_ner"]
    temporal = [r for r in records if r.task == "temporal_comparison"]
    assert json.loads(ner[0].output) == [["Small", "OBS-DP"], ["left", "ANAT-DP"], ["pleural effusion", "OBS-DP"],
                                        ["pneumothorax", "OBS-DA"]]
    assert json.loads(ner[1].output) == [["Heart", "ANAT-DP"], ["normal", "OBS-DP"]]  # labeler_1 of a test report
    assert json.loads(temporal[0].output) == [["pleural effusion", "worsened"]]


def test_chexbert_maps_1_0_minus1_blank():
    records = convert("chexbert")
    first = TASKS["abnormality_detection"].parse(records[0].output).labels
    assert (first["cardiomegaly"], first["atelectasis"], first["pleural effusion"], first["edema"]) == \
        ("positive", "uncertain", "positive", "not_mentioned")
    assert records[0].tier == Tier.SILVER


def test_radnli_keeps_labelled_pairs_only():
    records = convert("radnli")
    assert [r.output for r in records] == ["entailment", "contradiction", "neutral"]
    assert records[0].context == {"premise": "There is a small left pleural effusion.",
                                  "hypothesis": "Pleural effusion is present."}


@pytest.mark.parametrize("text,n,m", [
    ("Multiple enlarged retroperitoneal lymph nodes. Hepatic metastases.", "N2", "M1"),
    ("No lymphadenopathy. No evidence of distant metastasis.", "N0", "M0"),
    ("A single enlarged portacaval lymph node.", "N1", None),
    ("Kidneys normal.", None, None),
])
def test_merlin_screening(text, n, m):
    assert (screen_n_stage(text), screen_m_stage(text)) == (n, m)


def test_merlin_converter_emits_only_screened_labels():
    records = convert("merlin")
    assert {(r.id, r.output) for r in records} == {
        ("merlin:AC1234:n_staging", "N2"), ("merlin:AC1234:m_staging", "M1"),
        ("merlin:AC1235:n_staging", "N0"), ("merlin:AC1235:m_staging", "M0"), ("merlin:AC1237:n_staging", "N1")}


def test_multi_rads_normalizes_labels_and_tiers_by_origin():
    records = convert("multi-rads")
    assert [(r.output, r.tier) for r in records] == [
        ("BI-RADS 5", Tier.GOLD), ("LI-RADS 5", Tier.BRONZE), ("TI-RADS TR1", Tier.SILVER)]


def test_medqa_keeps_imaging_questions_with_options():
    records = convert("medqa")
    assert len(records) == 1 and records[0].output == "Needle decompression"
    assert "B. Needle decompression" in records[0].input


def test_llava_conversations_become_qa_pairs():
    records = convert("llava-med")
    assert [(r.input, r.output) for r in records] == [
        ("What does the CT show?", "A hypodense lesion in the right hepatic lobe."),
        ("Is there ascites?", "No ascites is seen.")]


def test_synthetic_records_cover_all_nine_tasks_and_say_synthetic():
    records = list(synthetic_records(60))
    assert {r.task for r in records} == set(TASKS)
    assert all(r.synthetic and r.id.startswith("synthetic-") for r in records)
    assert all(valid_output(r) for r in records)


def test_every_record_renders_in_both_profiles():
    for record in list(synthetic_records(30)) + convert("radnli") + convert("medqa"):
        assert f"[TASK: {record.task}]" in record_prompt(record, "radlite-paper").text
        assert f"[{record.task}]" in record_prompt(record, "radlite-v1").text


def test_curation_dedups_validates_caps_and_splits_disjointly():
    base = dict(task="radiology_nli", source="s", tier=Tier.GOLD, context={"premise": "p", "hypothesis": "h"})
    records = [InstructionRecord(id=f"r{i}", input=f"pair {i}", output="entailment", **base) for i in range(50)]
    records += [InstructionRecord(id="dup", input="pair 0", output="entailment", **base),
                InstructionRecord(id="bad", input="pair x", output="maybe", **base)]
    result = curate(records, CurationConfig(test_per_task=5, validation_per_task=3))
    assert result.dropped == {"duplicate_input": 1, "invalid_output": 1}
    ids = {name: {r.id for r in split} for name, split in result.splits.items() if name != "train_weighted"}
    assert (len(ids["test"]), len(ids["validation"]), len(ids["train"])) == (5, 3, 42)
    assert not ids["test"] & ids["train"] and not ids["validation"] & ids["train"]
    # NLI has weight 3: every training record appears three times in the weighted stream
    assert len(result.splits["train_weighted"]) == 3 * 42
    again = curate(records, CurationConfig(test_per_task=5, validation_per_task=3))
    assert [r.id for r in again.splits["test"]] == [r.id for r in result.splits["test"]]  # seed 42


def test_build_data_cli_writes_splits_and_card(tmp_path):
    args = ["train", "build-data", "--synthetic", "30", "--out", str(tmp_path / "ds")]
    for kind, name in FIXTURE_OF.items():
        args += ["--source", f"{kind}={os.path.join(FIXTURES, name)}"]
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    card = json.load(open(tmp_path / "ds" / "dataset_card.json"))
    assert set(card["splits"]) == {"train", "train_weighted", "validation", "test"}
    assert set(card["splits"]["train"]["by_task"]) == set(TASKS)
    assert "radnli" in card["splits"]["train"]["by_source"] or "radnli" in card["splits"]["test"]["by_source"]
    assert (tmp_path / "ds" / "dataset_card.md").read_text().startswith("# Dataset card")
    bad = run_cli("train", "build-data", "--source", "nosuch=x", "--out", str(tmp_path / "x"))
    assert bad.exit_code != 0 and "KIND=PATH" in bad.stderr


def test_build_data_function_is_deterministic(tmp_path):
    build_data([], str(tmp_path / "a"), synthetic=20)
    build_data([], str(tmp_path / "b"), synthetic=20)
    assert (tmp_path / "a" / "test.jsonl").read_text() == (tmp_path / "b" / "test.jsonl").read_text()
