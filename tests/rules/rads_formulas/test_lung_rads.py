"""Lung-RADS v2022 at its category boundaries, and nodule features read from report text."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.lung_rads import NoduleFeatures, category
from radlite.report import build_report


@pytest.mark.parametrize("mm,timing,expected", [
    (5.9, "baseline", "2"), (6.0, "baseline", "3"), (7.9, "baseline", "3"), (8.0, "baseline", "4A"),
    (14.9, "baseline", "4A"), (15.0, "baseline", "4B"),
    (3.9, "new", "2"), (4.0, "new", "3"), (5.9, "new", "3"), (6.0, "new", "4A"), (7.9, "new", "4A"), (8.0, "new", "4B"),
    (5.0, "growing", "4A"), (7.9, "growing", "4A"), (8.0, "growing", "4B"),
])
def test_solid_nodule_boundaries(mm, timing, expected):
    assert category(NoduleFeatures("solid", mm, timing))[0] == expected


@pytest.mark.parametrize("total,solid,timing,expected", [
    (5.9, 3.0, "baseline", "2"), (6.0, 5.9, "baseline", "3"), (10.0, 6.0, "baseline", "4A"),
    (10.0, 7.9, "baseline", "4A"), (10.0, 8.0, "baseline", "4B"),
    (5.0, 2.0, "new", "3"), (9.0, 3.9, "new", "4A"), (9.0, 4.0, "new", "4B"), (9.0, 3.0, "growing", "4A"),
    (9.0, 4.0, "growing", "4B"),
])
def test_part_solid_nodule_boundaries(total, solid, timing, expected):
    assert category(NoduleFeatures("part-solid", total, timing, solid_mm=solid))[0] == expected


@pytest.mark.parametrize("mm,timing,expected", [(29.9, "baseline", "2"), (30.0, "baseline", "3"), (30.0, "new", "3"),
                                                (30.0, "stable", "2"), (12.0, "growing", "2")])
def test_ground_glass_nodule_boundaries(mm, timing, expected):
    assert category(NoduleFeatures("ground-glass", mm, timing))[0] == expected


def test_open_cases_say_why():
    assert category(NoduleFeatures("solid", 9.0, "stable")) == (
        None, "stable nodule: its category depends on its earlier category and the interval")
    assert category(NoduleFeatures("solid", 7.0, juxtapleural=True))[0] is None
    assert category(NoduleFeatures("part-solid", 9.0))[0] is None  # solid component not stated
    assert category(NoduleFeatures("solid", 12.0, benign=True))[0] == "1"


def _computed(findings: str, exam: str = "CT CHEST LOW DOSE LUNG CANCER SCREENING"):
    report = build_report("t", "r", f"EXAMINATION: {exam}\nFINDINGS:\n{findings}\nIMPRESSION:\nSee above.")
    formula = FORMULAS["Lung-RADS"]
    if not formula.applies(report):
        return None
    lesions = formula.lesions(report)
    return report, formula.exam(report, lesions), lesions


def test_mean_diameter_of_two_axes_and_the_most_suspicious_nodule_decides():
    report, exam, lesions = _computed("A 7 x 9 mm solid nodule in the right upper lobe. A 4 mm solid nodule in the "
                                      "left lower lobe.")
    assert [(c.category, c.site) for c in lesions] == [("4A", "right upper lobe"), ("2", "left lower lobe")]
    assert exam.category == "4A" and "mean diameter 8 mm" in exam.features
    assert report.text[exam.evidence.start:exam.evidence.end] == "A 7 x 9 mm solid nodule in the right upper lobe"


def test_growth_from_the_stated_sizes_more_than_1_5_mm():
    assert _computed("Right upper lobe solid nodule has increased from 5 mm to 7 mm.")[1].category == "4A"
    _, exam, _ = _computed("Right upper lobe solid nodule increased from 6.5 to 7.5 mm.")
    assert exam.category is None and "stable" in exam.features  # a 1 mm change is not growth


def test_negated_nodules_are_not_nodules_and_no_nodules_is_category_1():
    _, exam, lesions = _computed("No pulmonary nodules. No new 5 mm nodule.")
    assert lesions == [] and exam.category == "1"


def test_a_chest_ct_that_is_not_a_screening_study_gets_no_lung_rads():
    assert _computed("A 9 mm solid nodule in the right upper lobe.", exam="CT CHEST WITH CONTRAST") is None


def test_centimetres_and_ground_glass_and_part_solid_words():
    _, exam, _ = _computed("Ground-glass nodule in the left upper lobe measuring 3.2 cm.")
    assert (exam.category, exam.features) == ("3", "ground-glass nodule, mean diameter 32 mm, baseline")
    _, exam, _ = _computed("Part-solid nodule in the right lower lobe, 12 mm, with a 6 mm solid component.")
    assert exam.category == "4A"
