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


def _label(sentence: str, label: str):
    report = build_report("t", "r", f"FINDINGS: {sentence}")
    mention = label_report(report)[label]
    return mention and (mention.status, report.text[mention.start:mention.end])


@pytest.mark.parametrize("sentence", [
    "Small pericardial effusion.",
    "Moderate knee joint effusion.",
])
def test_an_effusion_of_another_space_is_not_a_pleural_effusion(sentence):
    """CheXpert's unmention list: a pericardial effusion is not a pleural effusion."""
    assert _label(sentence, "pleural effusion") is None


@pytest.mark.parametrize("sentence,quote", [
    ("Moderate heart enlargement, unchanged.", "heart enlargement"),
    ("The cardiac size remains moderately enlarged.", "cardiac size remains moderately enlarged"),
    ("The cardiac contour is enlarged.", "cardiac contour is enlarged"),
    ("The heart size is at the upper limits of normal or mildly enlarged.",
     "heart size is at the upper limits of normal or mildly enlarged"),
    ("Heart is normal to mildly enlarged in size.", "Heart is normal to mildly enlarged"),
])
def test_an_enlarged_heart_in_the_words_of_chexperts_mention_list_is_cardiomegaly(sentence, quote):
    assert _label(sentence, "cardiomegaly") == ("positive", quote)


def test_a_normal_heart_size_stays_negative():
    assert _label("The heart size is normal.", "cardiomegaly") == ("negative", "heart size is normal")


def test_a_masslike_opacity_is_a_lung_lesion():
    assert _label("Masslike opacity in the left upper lobe.", "lung lesion") == ("positive", "Masslike")


@pytest.mark.parametrize("sentence", [
    "Levoscoliosis of the lumbar spine.", "Mild dextroscoliosis.", "Scoliotic curvature of the thoracic spine.",
    "Mild dextrocurvature of the spine.", "Lung volumes are low.", "Diminished lung volumes.",
    "The lungs are hypoventilated.", "Ectasia of the ascending aorta.", "Endplate changes in the thoracic spine.",
    "Bridging syndesmophytes in the thoracic spine.", "Mild degeneration of the spine.",
])
def test_an_other_finding_in_any_of_its_forms_means_the_study_is_not_normal(sentence):
    report = build_report("t", "r", f"FINDINGS: The lungs are clear. {sentence} No pleural effusion.")
    assert label_report(report)["no finding"].status == "negative"


def test_low_normal_lung_volumes_leave_the_study_normal():
    report = build_report("t", "r", "FINDINGS: The lungs are clear. Lung volumes are low normal. No pleural effusion.")
    assert label_report(report)["no finding"].status == "positive"
