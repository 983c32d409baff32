"""Open-i IU X-ray reports and NegBio's gold as training data: the fixed test list never leaks."""

import json
import os

from conftest import ROOT, run_cli

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "sources", "openi")
TEST_IDS = {"CXR2", "CXR5"}


def _split(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def test_build_data_keeps_the_fixed_test_list_out_of_training_and_counts_real_and_silver(tmp_path):
    out = tmp_path / "data"
    result = run_cli("train", "build-data", "--source", f"iu-xray={FIXTURE}/indiana_reports.csv",
                     "--source", f"negbio-gold={FIXTURE}/openi_gld_std14.csv", "--test-ids",
                     f"{FIXTURE}/openi-testset.txt", "--synthetic", "30", "--validation-per-task", "1",
                     "--out", out)
    assert result.exit_code == 0, result.output
    splits = {name: _split(out / f"{name}.jsonl") for name in ("train", "train_weighted", "validation", "test")}
    for name in ("train", "train_weighted", "validation"):
        assert not {r["report_key"] for r in splits[name]} & TEST_IDS, name
    real_test = [r for r in splits["test"] if r["source"] == "iu-xray"]
    assert {r["report_key"] for r in real_test} == TEST_IDS
    assert {r["task"] for r in real_test} >= {"impression_generation", "abnormality_detection"}
    card = json.load(open(out / "dataset_card.json"))
    # the fixed list is the whole test split of a task built from IU; training mixes real and synthetic
    # IU abnormality records are silver as a whole (the rules give part of every answer) ...
    assert card["splits"]["test"]["by_origin"]["abnormality_detection"] == {"silver": 2}
    train = card["splits"]["train"]["by_origin"]
    assert train["abnormality_detection"]["silver"] >= 1 and train["abnormality_detection"]["synthetic"] >= 1
    # ... and the card says, per label, which values are NegBio's hand labels and which the rules'
    tiers = card["splits"]["test"]["label_tiers"]
    assert tiers["pleural effusion"] == {"gold": 2} and tiers["fracture"] == {"silver": 2}
    assert "| pleural effusion | 2 | 0 |" in (out / "dataset_card.md").read_text()
    assert train["temporal_comparison"].get("silver", 0) >= 1


def test_abnormality_records_take_negbio_gold_where_it_covers_a_label(tmp_path):
    from training.data.sources.openi import iu_xray, read_gold

    gold = read_gold(f"{FIXTURE}/openi_gld_std14.csv")
    records = {r.id: r for r in iu_xray(f"{FIXTURE}/indiana_reports.csv", gold)}
    effusion = json.loads(records["iu-xray:CXR2:abnormality"].output)
    assert effusion["pleural effusion"] == "positive" and records["iu-xray:CXR2:abnormality"].tier.value == "silver"
    assert records["iu-xray:CXR2:abnormality"].label_tiers["pleural effusion"].value == "gold"
    assert records["iu-xray:CXR2:abnormality"].label_tiers["support devices"].value == "silver"
    assert json.loads(records["iu-xray:CXR1:abnormality"].output)["no finding"] == "positive"
    assert json.loads(records["iu-xray:CXR6:abnormality"].output)["lung lesion"] == "positive"
    temporal = records["iu-xray:CXR2:temporal"]
    assert temporal.tier.value == "silver" and ["small right pleural effusion", "new"] in json.loads(temporal.output)
    silver = {r.id: r for r in iu_xray(f"{FIXTURE}/indiana_reports.csv")}
    assert silver["iu-xray:CXR2:abnormality"].tier.value == "silver"
