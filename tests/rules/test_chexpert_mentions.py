"""Which words are a CheXpert label's mention (radlite/chexpert.py), on sentences written for RadLite."""

import pytest

from radlite.chexpert import label_report
from radlite.report import build_report


@pytest.mark.parametrize("sentence,quote", [
    ("Complete collapse of the right lung.", "collapse of the right lung"),
    ("Partial collapse of the left upper and lower lobes.", "collapse of the left upper and lower lobes"),
    ("Right middle lobe collapse appears less distinct.", "lobe collapse"),
    ("In the collapsed left upper lobe there is stranding.", "collapsed left upper lobe"),
])
def test_a_collapsed_lung_or_lobe_is_atelectasis(sentence, quote):
    report = build_report("t", "r", f"FINDINGS: {sentence}")
    mention = label_report(report)["atelectasis"]
    assert mention.status == "positive" and report.text[mention.start:mention.end] == quote


@pytest.mark.parametrize("sentence", [
    "Mild left-sided volume loss after lobectomy, unchanged.",
    "Compression collapse of the T11 vertebral body.",
])
def test_volume_loss_and_a_vertebral_collapse_are_not_atelectasis(sentence):
    assert label_report(build_report("t", "r", f"FINDINGS: {sentence}"))["atelectasis"] is None


def test_an_uncalcified_nodule_is_a_lung_lesion_and_a_calcified_one_is_not():
    uncalcified = build_report("t", "r", "FINDINGS: A 7 mm uncalcified nodule in the lingula.")
    calcified = build_report("t", "r", "FINDINGS: A 7 mm calcified nodule in the lingula.")
    assert label_report(uncalcified)["lung lesion"].status == "positive"
    assert label_report(calcified)["lung lesion"] is None
