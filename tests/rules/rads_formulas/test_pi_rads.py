"""PI-RADS v2.1: the dominant sequence by zone, the DCE and DWI upgrades, and scores read from text."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.pi_rads import category, peripheral, transition
from radlite.report import build_report


@pytest.mark.parametrize("dwi,dce,expected", [(1, True, "1"), (2, True, "2"), (3, False, "3"), (3, True, "4"),
                                              (4, False, "4"), (5, False, "5")])
def test_peripheral_zone_dwi_dominant_dce_upgrades_3(dwi, dce, expected):
    assert peripheral(dwi, dce) == expected


@pytest.mark.parametrize("t2w,dwi,expected", [(1, 5, "1"), (2, 3, "2"), (2, 4, "3"), (3, 4, "3"), (3, 5, "4"),
                                              (4, 1, "4"), (5, 1, "5")])
def test_transition_zone_t2w_dominant_dwi_upgrades(t2w, dwi, expected):
    assert transition(t2w, dwi) == expected


def test_missing_scores_leave_open_only_where_they_decide():
    assert category("peripheral", None, 4, None) == ("4", "")
    assert category("peripheral", None, 3, None)[0] is None
    assert category("transition", 4, None, None) == ("4", "")
    assert category("transition", 2, None, None)[1].startswith("DWI score not stated")
    assert category(None, 3, 3, True)[1] == "zone (peripheral or transition) not stated"


def _report(findings: str):
    return build_report("t", "r", f"MRI PROSTATE\nFINDINGS:\n{findings}\n")


def test_scores_and_lexicon_read_from_the_lesion():
    lesions = FORMULAS["PI-RADS"].lesions(_report(
        "Lesion 1: right base peripheral zone, 8 mm, DWI 3, DCE positive.\n"
        "Lesion 2: left apex peripheral zone, 1.6 cm, markedly hypointense on ADC and markedly hyperintense on "
        "high b-value images."))
    assert [c.category for c in lesions] == ["4", "5"]


def test_no_suspicious_lesion_is_pi_rads_1():
    report = _report("No suspicious lesion in the peripheral zone. Typical encapsulated BPH nodules.")
    assert FORMULAS["PI-RADS"].exam(report, FORMULAS["PI-RADS"].lesions(report)).category == "1"


def test_a_size_after_a_sequence_name_is_not_a_score():
    lesions = FORMULAS["PI-RADS"].lesions(_report("Right peripheral zone lesion, T2 1.2 cm hypointense, DWI 4."))
    assert [(c.category, c.features) for c in lesions] == [
        ("4", "peripheral zone, T2W not stated, DWI 4, DCE not stated")]


def test_a_numbered_target_with_its_scores_in_later_sentences():
    lesions = FORMULAS["PI-RADS"].lesions(_report("Target 1: left apex peripheral zone, 7 mm. T2W: 2. DWI: 2. "
                                                  "DCE: negative."))
    assert [c.category for c in lesions] == ["2"]
