"""Real reports: the rules' CheXpert labels against NegBio's hand labels on the VALIDATION split.

The validation split is IU X-ray's 3,080 reports off NegBio's fixed 771-report test list (3,059
with text); the test list is never read here. The data (CC BY-NC-ND 4.0) is not in the repository:
CI has it at ../shared/data and this test fails there when it is missing; elsewhere it skips and
says why.
"""

import os

import pytest
from conftest import ROOT

from training.data.sources.openi import MAPPED_LABELS
from training.eval.negbio import gold_labels, rule_labels, scores, split_reports

#: RADLITE_SHARED_DATA points elsewhere (e.g. a missing folder, to see the CI failure).
DATA = os.environ.get("RADLITE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
#: Measured 0.9327 (3,059 reports; 0.9175 with the assertion engine's first version, 0.9230 before the
#: validation error analysis of docs/values.md) with
#:   python benchmarks/quality_iu.py --data ../shared/data --split validation --arms rules
#: (the same figure as the direct call below); the floor sits a little under it.
MICRO_F1_FLOOR = 0.92
#: Per label, F1 on the validation split measured with the same call (2026-12-07, the rules as of
#: this commit; support in brackets), the direct form of
#:   python benchmarks/quality_iu.py --data ../shared/data --split validation --arms rules
VALIDATION_LABEL_F1 = {"atelectasis": 0.9352, "cardiomegaly": 0.9638, "pleural effusion": 0.9148,  # 258, 269, 121
                       "pneumonia": 0.8824, "pneumothorax": 1.0, "consolidation": 0.9333,  # 35, 15, 22
                       "edema": 0.8571, "lung lesion": 0.8132, "no finding": 0.9386}  # 31, 96, 1,076
#: Policy: a label may fall this far under its validation figure before the test fails (one or two
#: more errors on the rarest labels; pneumothorax has 15 positives). Re-measure the figures above
#: after a deliberate change, on the validation split only, never the test list.
LABEL_F1_MARGIN = 0.05


@pytest.fixture(scope="module")
def validation_scores():
    needed = [os.path.join(DATA, "iu-xray", "indiana_reports.csv"), os.path.join(DATA, "negbio", "openi_gld_std14.csv"),
              os.path.join(DATA, "negbio", "openi-testset.txt")]
    missing = [p for p in needed if not os.path.exists(p)]
    if missing:
        message = f"real-data regression test needs {', '.join(os.path.relpath(p, ROOT) for p in missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must have ../shared/data", pytrace=False)
        pytest.skip(message)
    reports = split_reports(DATA, "validation")
    predicted = {key: rule_labels(report) for key, report, _ in reports}
    return len(reports), *scores(predicted, gold_labels(DATA))


def test_rules_micro_f1_against_negbio_hand_labels_stays_above_its_floor(validation_scores):
    n, _, micro = validation_scores
    assert n == 3059, "the validation split changed: re-measure the floor"
    assert micro >= MICRO_F1_FLOOR, f"rules micro-F1 {micro:.4f} on {n} validation reports < floor {MICRO_F1_FLOOR}"


def test_no_mapped_label_falls_under_its_validation_figure_less_the_margin(validation_scores):
    _, per_label, _ = validation_scores
    assert set(per_label) == set(MAPPED_LABELS) == set(VALIDATION_LABEL_F1)
    low = {label: (round(f1, 4), VALIDATION_LABEL_F1[label]) for label, (_, _, f1, _) in per_label.items()
           if f1 < VALIDATION_LABEL_F1[label] - LABEL_F1_MARGIN}
    assert not low, f"labels more than {LABEL_F1_MARGIN} under their validation F1 (now, measured): {low}"


def test_the_validation_split_never_holds_a_test_list_report(validation_scores):
    from training.data.sources.openi import read_test_ids

    test_ids = read_test_ids(os.path.join(DATA, "negbio", "openi-testset.txt"))
    assert len(test_ids) == 771
    assert not {key for key, _, _ in split_reports(DATA, "validation")} & test_ids


def test_the_sample_data_holds_no_test_list_report():
    """sample_data's real IU X-ray reports are shown by every sample run: none may be on the test list."""
    import csv

    from training.data.sources.openi import read_test_ids

    test_list = os.path.join(DATA, "negbio", "openi-testset.txt")
    if not os.path.exists(test_list):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{os.path.relpath(test_list, ROOT)} is missing: CI must have ../shared/data", pytrace=False)
        pytest.skip(f"needs {os.path.relpath(test_list, ROOT)}")
    with open(os.path.join(ROOT, "sample_data", "reports", "iu-xray-openi-sample.csv"), newline="") as fh:
        keys = {f"CXR{row['uid']}" for row in csv.DictReader(fh)}
    assert len(keys) == 20 and not keys & read_test_ids(test_list)
