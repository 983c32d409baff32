"""VI-RADS (2018) T2W categories at the 1 cm boundary and from the muscularis propria as written."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.vi_rads import TumourFeatures, category
from radlite.report import build_report


@pytest.mark.parametrize("features,expected", [
    (TumourFeatures("intact", 9.9, None), "1"), (TumourFeatures("intact", 10, True), "2"),
    (TumourFeatures("intact", 10, False, True), "2"), (TumourFeatures("intact", 10, False, False), "3"),
    (TumourFeatures("interrupted", 5, True), "4"),
    (TumourFeatures("extravesical", None, None), "5"),
])
def test_t2w_categories(features, expected):
    assert category(features) == (expected, "")


def test_missing_features_leave_open():
    assert category(TumourFeatures(None, 20, True))[1].startswith("muscularis propria")
    assert category(TumourFeatures("intact", None, True))[1] == "tumour size not stated"
    assert category(TumourFeatures("intact", 15, None))[1].startswith("stalk and thickened inner layer")
    assert category(TumourFeatures("intact", 15, False))[1].startswith("thickened inner layer not described")


def _categories(findings: str):
    report = build_report("t", "r", f"MRI BLADDER\nFINDINGS:\n{findings}\n")
    return [c.category for c in FORMULAS["VI-RADS"].lesions(report)]


def test_denied_invasion_is_intact_and_uninterrupted_is_not_interrupted():
    assert _categories("1.5 cm tumour at the trigone with a stalk. No invasion of the muscularis propria.") == ["2"]
    assert _categories("2 cm tumour on the dome with a thickened inner layer; the hypointense line of the "
                       "muscularis propria is uninterrupted.") == ["2"]
    assert _categories("3 cm tumour with disruption of the muscularis propria.") == ["4"]
    assert _categories("3 cm tumour, possible invasion of the muscularis propria.") == [None]


def test_stalk_or_inner_layer_as_written():
    assert _categories("2 cm tumour, muscularis propria intact, thickened inner layer but no stalk.") == ["2"]
    assert _categories("2 cm tumour. Muscularis propria: intact. Stalk: no. Thickened inner layer: no.") == ["3"]
    assert _categories("2 cm sessile tumour with intact muscularis propria.") == [None]
