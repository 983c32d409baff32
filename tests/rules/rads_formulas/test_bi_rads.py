"""BI-RADS 1 and 2 where the atlas's lexicon fixes them; anything else stays open."""

import pytest

from radlite.rads_formulas import FORMULAS
from radlite.rads_formulas.bi_rads import category
from radlite.report import build_report


def test_category_rules():
    assert category(False, False, True) == ("1", "")
    assert category(False, True, True) == ("2", "")
    assert category(True, True, True)[0] is None
    assert category(False, False, False)[0] is None


@pytest.mark.parametrize("findings,expected", [
    ("No suspicious mass, calcifications or architectural distortion.", "1"),
    ("Scattered fibroglandular density. Bilateral vascular calcifications.", "2"),
    ("A 1.5 cm simple cyst at 3 o'clock. Intramammary lymph node in the left upper outer quadrant.", "2"),
    ("An oval circumscribed mass at 12 o'clock, 8 mm.", None),
    ("Grouped amorphous calcifications in the right upper outer quadrant.", None),
    ("Focal asymmetry in the left breast. Vascular calcifications.", None),
])
def test_read_from_mammography(findings, expected):
    report = build_report("t", "r", f"SCREENING MAMMOGRAM\nFINDINGS:\n{findings}\n")
    lesions = FORMULAS["BI-RADS"].lesions(report)
    assert [c.category for c in lesions] == [expected]
