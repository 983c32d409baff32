"""GB-RADS 1, 2 and 5 from the stated wall features; 3 and 4 left open with the reason."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.gb_rads import category
from radlite.report import build_report


def test_category_rules():
    assert category(True, True, True, True) == ("5", "")
    assert category(False, None, False, False) == ("1", "")
    assert category(True, True, True, False) == ("2", "")
    assert category(True, None, True, False)[1].startswith("extent")
    assert category(True, True, False, False)[0] is None


@pytest.mark.parametrize("findings,expected", [
    ("Gallbladder: circumferential wall thickening with intramural echogenic foci and comet-tail artifacts.", "2"),
    ("Gallbladder wall thickening with invasion of the adjacent liver.", "5"),
    ("The gallbladder wall is not thickened. No stones.", "1"),
    ("Gallbladder: asymmetric wall thickening of 8 mm.", None),
])
def test_read_from_ultrasound(findings, expected):
    report = build_report("t", "r", f"US ABDOMEN\nINDICATION: Gallbladder wall thickening on CT.\nFINDINGS:\n"
                                    f"{findings}\n")
    assert FORMULAS["GB-RADS"].applies(report)
    assert [c.category for c in FORMULAS["GB-RADS"].lesions(report)] == [expected]


def test_a_routine_normal_gallbladder_is_not_assessed():
    routine = build_report("t", "r", "US ABDOMEN\nINDICATION: RUQ pain.\nFINDINGS:\nNo gallstones, gallbladder "
                                     "wall thickening or pericholecystic fluid.\n")
    assert not FORMULAS["GB-RADS"].applies(routine)
