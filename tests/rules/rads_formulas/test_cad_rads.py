"""CAD-RADS 2.0 at its stenosis boundaries, the 4B rules, and stenoses read from report text."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.cad_rads import Stenosis, category, grade_category
from radlite.report import build_report


@pytest.mark.parametrize("percent,expected", [(0, "0"), (1, "1"), (24, "1"), (25, "2"), (49, "2"), (50, "3"),
                                              (69, "3"), (70, "4A"), (99, "4A"), (100, "5")])
def test_stenosis_boundaries(percent, expected):
    assert grade_category(percent, percent) == expected
    assert category([Stenosis(percent, percent, "LAD", 0, 1)], False, True)[0] == expected


def test_a_range_spanning_two_categories_is_left_open():
    assert grade_category(50, 69) == "3" and grade_category(40, 60) is None
    assert category([Stenosis(40, 60, "LAD", 0, 1)], False, True)[0] is None


@pytest.mark.parametrize("stenoses,expected", [
    ([("LM", 49, 49)], "2"), ([("LM", 50, 50)], "4B"),
    ([("LAD", 70, 70), ("LCx", 70, 99), ("RCA", 69, 69)], "4A"),
    ([("LAD", 70, 70), ("LCx", 70, 99), ("RCA", 70, 70)], "4B"),
    ([("LAD", 100, 100), ("LCx", 70, 99), ("RCA", 70, 70)], "5"),
])
def test_left_main_and_three_vessel_disease(stenoses, expected):
    assert category([Stenosis(lo, hi, t, 0, 1) for t, lo, hi in stenoses], False, True)[0] == expected


def test_no_plaque_is_0_and_plaque_without_stenosis_is_1():
    assert category([], True, False)[0] == "0"
    assert category([], True, True)[0] == "1"
    assert category([], False, True)[0] is None  # plaque with no stated grade


def _exam(findings: str):
    report = build_report("t", "r", f"EXAMINATION: CT CORONARY ANGIOGRAPHY\nFINDINGS:\n{findings}\n")
    formula = FORMULAS["CAD-RADS"]
    return report, formula.exam(report, formula.lesions(report))


@pytest.mark.parametrize("findings,expected", [
    ("LAD: 50-69% stenosis in the proximal segment. RCA: minimal plaque.", "3"),
    ("Severe stenosis of the mid LAD. Mild stenosis of the RCA.", "4A"),
    ("Total occlusion of the mid RCA.", "5"),
    ("No coronary artery plaque or stenosis.", "0"),
    ("Mild stenosis of the LAD. No severe stenosis.", "2"),
    ("Left main: 50% stenosis. LAD: mild stenosis.", "4B"),
])
def test_categories_read_from_text(findings, expected):
    assert _exam(findings)[1].category == expected


def test_no_significant_stenosis_is_not_a_zero():
    assert _exam("No significant stenosis.")[1] is None


def test_evidence_quotes_the_maximal_stenosis():
    report, exam = _exam("LCx: minimal plaque. LAD: 70-99% stenosis of the proximal segment.")
    assert report.text[exam.evidence.start:exam.evidence.end] == "LAD: 70-99% stenosis of the proximal segment"
    assert exam.features == "maximal stenosis 70-99% (LAD)"
