"""LI-RADS v2018 CT/MRI diagnostic table at its size boundaries, LR-M / LR-TIV, and open categories."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.formula import settled
from radlite.rads_formulas.li_rads import ObservationFeatures, category, diagnostic_table
from radlite.report import build_report


@pytest.mark.parametrize("size,aphe,washout,capsule,growth,expected", [
    # no APHE: < 20 mm needs two additional features for LR-4, >= 20 mm one
    (19.9, False, True, False, False, "3"), (19.9, False, True, True, False, "4"),
    (20, False, False, False, False, "3"), (20, False, True, False, False, "4"),
    # nonrim APHE < 10 mm
    (9.9, True, False, False, False, "3"), (9.9, True, True, True, True, "4"),
    # 10-19 mm: capsule alone LR-4, washout or threshold growth LR-5, two or more LR-5
    (10, True, False, False, False, "3"), (10, True, False, True, False, "4"), (10, True, True, False, False, "5"),
    (19.9, True, False, False, True, "5"), (19.9, True, False, True, True, "5"),
    # >= 20 mm
    (20, True, False, False, False, "4"), (20, True, False, True, False, "5"),
])
def test_diagnostic_table(size, aphe, washout, capsule, growth, expected):
    assert diagnostic_table(size, aphe, washout, capsule, growth) == expected


def test_unstated_washout_or_capsule_leaves_open_only_where_it_matters():
    assert category(ObservationFeatures(15, True, True, None)) == ("5", "")  # washout alone makes 10-19 mm LR-5
    assert category(ObservationFeatures(15, True, None, None)) == (None, "washout and capsule not stated")
    assert category(ObservationFeatures(8, True, False, None)) == (None, "capsule not stated")
    assert category(ObservationFeatures(12, False, None, None)) == (None, "washout and capsule not stated")


def test_settled_names_only_the_features_that_change_the_category():
    def table(a, b):
        return "x" if a else "y"
    assert settled(table, {}, {"a": (False, True), "b": (False, True)}) == (None, "a not stated")
    assert settled(table, {"a": True}, {"b": (False, True)}) == ("x", "")


def _lesions(findings: str):
    report = build_report("t", "r", f"MRI LIVER\nHISTORY: Cirrhosis.\nFINDINGS:\n{findings}\n")
    return FORMULAS["LI-RADS"].lesions(report)


def test_one_category_per_observation_with_its_segment():
    lesions = _lesions("Segment 7: 2.1 cm observation with nonrim APHE, washout and capsule. "
                       "Segment 2: 9 mm observation with arterial phase hyperenhancement, no washout or capsule.")
    assert [(c.category, c.site) for c in lesions] == [("5", "segment 7"), ("3", "segment 2")]


def test_lr_m_lr_tiv_and_a_missing_aphe():
    assert [c.category for c in _lesions("3 cm mass in segment 4 with rim APHE and delayed central enhancement.")] \
        == ["M"]
    assert [c.category for c in _lesions("4 cm mass in segment 8 with tumor in vein of the middle hepatic vein.")] \
        == ["TIV"]
    open_ = _lesions("2.2 cm observation in segment 6 with washout.")
    assert (open_[0].category, open_[0].computed_reason) == (None, "LI-RADS: arterial phase enhancement not stated")


def test_non_rim_aphe_is_not_lr_m_and_applies_needs_a_risk_context():
    assert [c.category for c in _lesions("1.5 cm observation in segment 3 with non-rim APHE and washout.")] == ["5"]
    report = build_report("t", "r", "MRI LIVER\nFINDINGS:\n2 cm observation with APHE and washout.\n")
    assert not FORMULAS["LI-RADS"].applies(report)


def test_a_focus_is_an_observation():
    assert [c.category for c in _lesions("7 mm arterially hyperenhancing focus in segment 2, no washout or "
                                         "capsule.")] == ["3"]


def test_a_lesion_of_another_organ_is_not_an_observation():
    lesions = _lesions("2 cm lesion in the left kidney. 2.1 cm observation in segment 4 with APHE and washout.")
    assert [(c.category, c.site) for c in lesions] == [("5", "segment 4")]


def test_a_structured_template_answers_each_feature():
    lesions = _lesions("Observation 1: segment 6, 15 mm. APHE: yes. Washout: no. Capsule: no. Threshold growth: no.")
    assert [c.category for c in lesions] == ["3"]
    lesions = _lesions("Observation 1: segment 6, 15 mm. APHE: yes. Washout: yes. Capsule: no.")
    assert [c.category for c in lesions] == ["5"]
