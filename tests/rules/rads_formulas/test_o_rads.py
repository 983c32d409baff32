"""O-RADS US v2022 risk stratification at its size and colour-score boundaries, and descriptors read from text."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.o_rads import LesionFeatures, category
from radlite.report import build_report


@pytest.mark.parametrize("features,expected", [
    (LesionFeatures("simple", 3.0, premenopausal=True), "1"), (LesionFeatures("simple", 3.0, premenopausal=False), "2"),
    (LesionFeatures("simple", 3.1, premenopausal=True), "2"), (LesionFeatures("simple", 9.9), "2"),
    (LesionFeatures("simple", 10.0), "3"),
    (LesionFeatures("classic", 9.9), "2"), (LesionFeatures("classic", 10.0), "3"),
    (LesionFeatures("unilocular", 9.9, smooth=True, solid_component=False), "2"),
    (LesionFeatures("bilocular", 10.0, smooth=True, solid_component=False), "3"),
    (LesionFeatures("unilocular", 5.0, smooth=False, solid_component=False), "3"),
    (LesionFeatures("multilocular", 9.9, smooth=True, colour_score=3), "3"),
    (LesionFeatures("multilocular", 9.9, smooth=True, colour_score=4), "4"),
    (LesionFeatures("multilocular", 10.0, smooth=True, colour_score=1), "4"),
    (LesionFeatures("multilocular", 5.0, smooth=False), "4"),
    (LesionFeatures("unilocular", 5.0, papillary=3), "4"), (LesionFeatures("unilocular", 5.0, papillary=4), "5"),
    (LesionFeatures("unilocular", 5.0, solid_component=True), "4"),
    (LesionFeatures("bilocular", 5.0, solid_component=True), "4"),
    (LesionFeatures("multilocular", 5.0, solid_component=True, colour_score=2), "4"),
    (LesionFeatures("multilocular", 5.0, solid_component=True, colour_score=3), "5"),
    (LesionFeatures("solid", 4.0, smooth=True, colour_score=1), "3"),
    (LesionFeatures("solid", 4.0, smooth=True, colour_score=3), "4"),
    (LesionFeatures("solid", 4.0, smooth=True, colour_score=4), "5"),
    (LesionFeatures("solid", 4.0, smooth=False), "5"),
    (LesionFeatures("simple", 4.0, ascites_or_nodules=True), "5"),
    (LesionFeatures("physiologic", 2.0), "1"),
])
def test_risk_table(features, expected):
    assert category(features) == (expected, "")


def test_what_decides_and_is_missing_leaves_open():
    assert category(LesionFeatures("simple", 2.0))[1].startswith("menopausal status not stated")
    assert category(LesionFeatures("multilocular", 5.0, smooth=True))[1].startswith("colour score not stated")
    assert category(LesionFeatures("solid", 4.0, smooth=True))[1] == "colour score not stated"
    assert category(LesionFeatures(None, 4.0))[0] is None


def test_descriptors_read_per_lesion():
    report = build_report("t", "r", "US PELVIS TRANSVAGINAL\nHISTORY: Postmenopausal.\nFINDINGS:\n"
                                    "Right ovary: 2.5 cm simple cyst.\n"
                                    "Left ovary: 4 cm unilocular cyst with a single papillary projection, no internal "
                                    "flow.\n")
    lesions = FORMULAS["O-RADS"].lesions(report)
    assert [(c.category, c.site) for c in lesions] == [("2", "right ovary"), ("4", "left ovary")]


def test_a_diagnosis_named_in_the_sentence_is_the_same_lesion_and_thick_irregular_septations_count():
    report = build_report("t", "r", "US PELVIS\nHISTORY: Premenopausal.\nFINDINGS:\nRight ovary: 4 cm cyst with a "
                                    "reticular pattern, consistent with a haemorrhagic cyst.\nLeft ovary: 6 cm "
                                    "multilocular cyst with irregular thick septations.\n")
    assert [c.category for c in FORMULAS["O-RADS"].lesions(report)] == ["2", "4"]


def test_a_cyst_of_another_organ_is_not_adnexal():
    report = build_report("t", "r", "US PELVIS\nHISTORY: Postmenopausal.\nFINDINGS:\nUterus: 8 mm Nabothian cyst in "
                                    "the cervix.\nRight ovary: 5 cm simple cyst.\n")
    assert [(c.category, c.site) for c in FORMULAS["O-RADS"].lesions(report)] == [("2", "right ovary")]
