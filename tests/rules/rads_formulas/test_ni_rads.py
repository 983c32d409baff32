"""NI-RADS primary-site and neck categories from the stated enhancement and morphology."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.ni_rads import category
from radlite.report import build_report


def test_most_suspicious_feature_wins_and_a_denial_is_1():
    order = FORMULAS["NI-RADS"].order
    assert category(["1", "2A"], False, order) == "2A"
    assert category(["2B", "3"], False, order) == "3"
    assert category([], True, order) == "1"
    assert category([], False, order) is None


@pytest.mark.parametrize("primary,neck,expected", [
    ("Primary site: expected post-treatment changes, non-enhancing tissue.", "Neck: no residual lymph nodes.",
     [("primary site", "1"), ("neck", "1")]),
    ("Primary site: focal mucosal enhancement, non-mass-like.", "Neck: residual 1 cm level II node.",
     [("primary site", "2A"), ("neck", "2")]),
    ("Primary site: deep ill-defined soft tissue with mild enhancement.", "Neck: necrotic level III lymph node.",
     [("primary site", "2B"), ("neck", "3")]),
    ("Primary site: new discrete enhancing nodule at the resection bed.", "Neck: no lymphadenopathy.",
     [("primary site", "3"), ("neck", "1")]),
])
def test_primary_site_and_neck(primary, neck, expected):
    report = build_report("t", "r", f"CT NECK WITH CONTRAST\nHISTORY: Status post chemoradiation.\nFINDINGS:\n"
                                    f"{primary}\n{neck}\n")
    assert [(c.site, c.category) for c in FORMULAS["NI-RADS"].lesions(report)] == expected


def test_applies_only_after_treatment():
    report = build_report("t", "r", "CT NECK WITH CONTRAST\nFINDINGS:\nNecrotic level III lymph node.\n")
    assert not FORMULAS["NI-RADS"].applies(report)


def test_the_report_category_needs_both_sites():
    report = build_report("t", "r", "CT NECK WITH CONTRAST\nHISTORY: Status post chemoradiation.\nFINDINGS:\n"
                                    "Primary site: expected post-treatment changes.\n")
    formula = FORMULAS["NI-RADS"]
    lesions = formula.lesions(report)
    assert [(c.site, c.category) for c in lesions] == [("primary site", "1")]
    assert formula.exam(report, lesions).computed_reason == (
        "NI-RADS: neck not described (the report's category is the higher of the two)")
