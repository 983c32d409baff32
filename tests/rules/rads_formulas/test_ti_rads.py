"""ACR TI-RADS 2017 at its point totals and size thresholds, and nodule points read from report text."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.ti_rads import NodulePoints, category, level, recommendation, total
from radlite.report import build_report


@pytest.mark.parametrize("points,expected", [(0, "TR1"), (1, None), (2, "TR2"), (3, "TR3"), (4, "TR4"), (6, "TR4"),
                                             (7, "TR5"), (14, "TR5")])
def test_point_totals(points, expected):
    assert level(points) == expected


@pytest.mark.parametrize("tr,cm,expected", [
    ("TR3", 2.5, "FNA"), ("TR3", 2.4, "follow-up"), ("TR3", 1.4, "no FNA or follow-up"),
    ("TR4", 1.5, "FNA"), ("TR4", 1.0, "follow-up"), ("TR4", 0.9, "no FNA or follow-up"),
    ("TR5", 1.0, "FNA"), ("TR5", 0.5, "follow-up"), ("TR5", 0.4, "no FNA or follow-up"),
    ("TR2", 3.0, "no FNA"),
])
def test_fna_and_follow_up_thresholds(tr, cm, expected):
    assert recommendation(tr, cm) == expected


def test_spongiform_gets_no_further_points_and_foci_add_up():
    spongiform = NodulePoints(("spongiform", 0), ("hypoechoic", 2), None, ("irregular", 2))
    assert total(spongiform) == 0 and category(spongiform)[0] == "TR1"
    foci = NodulePoints(("solid", 2), ("hypoechoic", 2), ("wider-than-tall", 0), ("smooth", 0),
                        (("macrocalcifications", 1), ("punctate echogenic foci", 3)))
    assert total(foci) == 8 and category(foci)[0] == "TR5"


def test_missing_features_leave_the_level_open():
    assert category(NodulePoints(("solid", 2), None, None, ("smooth", 0))) == (None, "echogenicity not stated")
    assert category(NodulePoints(None, ("hypoechoic", 2), None, ("smooth", 0)))[1] == "composition not stated"
    assert category(NodulePoints(("cystic", 0), None, None, None))[0] == "TR1"  # a cyst is anechoic


def _lesions(findings: str):
    report = build_report("t", "r", f"EXAMINATION: US THYROID\nFINDINGS:\n{findings}\n")
    return FORMULAS["TI-RADS"].lesions(report)


def test_one_level_per_nodule_with_negated_descriptors_adding_nothing():
    lesions = _lesions("Nodule 1: Right lobe, 1.6 x 1.0 x 0.9 cm, solid, hypoechoic, wider-than-tall, smooth "
                       "margins, no echogenic foci, no extrathyroidal extension.\n"
                       "Nodule 2: Left lobe, 0.6 cm, solid, very hypoechoic, taller-than-wide, irregular margins.")
    assert [(c.category, c.site) for c in lesions] == [("TR4", "nodule 1 right lobe"), ("TR5", "nodule 2 left lobe")]
    assert lesions[0].features.endswith("4 points; 1.6 cm: FNA")
    assert lesions[1].features.endswith("10 points; 0.6 cm: follow-up")


def test_an_isoechoic_mixed_nodule_is_tr2():
    lesions = _lesions("Left lobe: 1.2 cm mixed cystic and solid isoechoic nodule with smooth margins.")
    assert [c.category for c in lesions] == ["TR2"]
