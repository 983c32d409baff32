"""Computed change against the prior study, stated change attached to its finding, and their agreement."""

import pytest

from radlite.timeline.build import lesion_observation
from radlite.timeline.changes import Observation, StatedChange, agreement, compare_study, stated_change_in
from radlite.timeline.lesions import follow_unsited, read_lesions


def _lesion(name, size, start=0, organ=None):
    return Observation("lesion", name, f"{size:g} mm", "present", None, size, start, start + 10, name, organ)


def _named(text):
    return [(lesion.name, lesion.size_mm) for lesion in read_lesions(text)]


def test_lesions_read_the_current_size_not_the_prior_one():
    text = ("FINDINGS: The right upper lobe nodule now measures 9 mm (previously 6 mm). "
            "Liver lesion measuring 1.2 cm.\nIMPRESSION: Lung-RADS 4A.")
    assert _named(text) == [("nodule right upper lobe", 9.0), ("lesion liver", 12.0)]
    assert read_lesions("INDICATION: 5 mm nodule follow-up.\nFINDINGS: No nodule.") == []


@pytest.mark.parametrize("before, after", [
    ("EXAM: CT CHEST\nFINDINGS: A 6 mm left lower lobe nodule.", "EXAM: CT CHEST\nFINDINGS: Nodule in the left lower "
                                                                 "lobe, 6 mm."),
    ("EXAM: CT CHEST\nFINDINGS: 3 mm LUL nodule.", "EXAM: CT CHEST\nFINDINGS: There is a 3 mm nodule within the left "
                                                  "upper lobe."),
    ("EXAM: CT CHEST\nFINDINGS: 5 mm lingular nodule.", "EXAM: CT CHEST\nFINDINGS: 5 mm nodule in the lingula."),
    ("EXAM: US THYROID\nFINDINGS: 9 mm left thyroid lobe nodule.", "EXAM: US THYROID\nFINDINGS: Nodule in the left "
                                                                  "lobe measuring 9 mm."),
    ("EXAM: CT ABDOMEN\nFINDINGS: 2 cm segment VI hepatic lesion.", "EXAM: CT ABDOMEN\nFINDINGS: Lesion in liver "
                                                                    "segment 6 measures 2 cm."),
    ("EXAM: CT ABDOMEN\nFINDINGS: 13 mm right adrenal nodule.", "EXAM: CT ABDOMEN\nFINDINGS: Nodule of the right "
                                                                "adrenal gland, 13 mm."),
    ("EXAM: US NECK\nFINDINGS: 15 mm left level II lymph node.", "EXAM: US NECK\nFINDINGS: Lymph node at left level 2, "
                                                                "15 mm."),
    ("EXAM: MAMMOGRAM\nFINDINGS: Left breast 3 o'clock 7 mm mass.", "EXAM: MAMMOGRAM\nFINDINGS: 7 mm mass in the left "
                                                                    "breast at 3 o'clock."),
])
def test_site_words_before_or_after_the_noun_name_one_lesion(before, after):
    assert _named(before) == _named(after) and len(_named(before)) == 1 and " " in _named(before)[0][0]


def test_organs_beyond_the_lung_and_sites_within_them():
    text = ("EXAM: CT CHEST ABDOMEN PELVIS\nFINDINGS: 12 mm right hilar lymph node. 11 mm subcarinal node. "
            "2.5 cm cyst in the lower pole of the left kidney. 8 mm sclerotic lesion in the T11 vertebral body. "
            "Right breast: 6 mm mass at 9 o'clock, 2 cm from the nipple.")
    assert _named(text) == [("lymph node right hilar", 12.0), ("lymph node subcarinal", 11.0),
                            ("cyst left kidney lower pole", 25.0), ("lesion T11 vertebra", 8.0),
                            ("mass right breast 9 o'clock", 6.0)]


@pytest.mark.parametrize("phrase, change", [
    ("is unchanged", "unchanged"), ("is not significantly changed", "unchanged"),
    ("shows no significant interval change", "unchanged"), ("has been stable over 24 months", "unchanged"),
    ("is stable for 2 years", "unchanged"), ("shows interval increase", "worsened"), ("has increased", "worsened"),
    ("has grown", "worsened"), ("has decreased", "improved"), ("is smaller", "improved"),
    ("has resolved", "resolved"), ("is no longer visualized", "resolved"),
])
def test_stated_change_phrasings(phrase, change):
    text = f"FINDINGS: The 7 mm right middle lobe nodule {phrase}."
    assert stated_change_in(text, 10, len(text), text.index("nodule"))[0] == change
    assert read_lesions(text)[0].stated[0] == change


def test_a_negated_change_states_none_and_new_is_read():
    assert read_lesions("FINDINGS: 4 mm right lower lobe nodule. No new nodules.")[0].stated is None
    lesion, = read_lesions("FINDINGS: New 6 mm nodule in the right lower lobe.")
    assert lesion.stated[0] == "new"


def test_each_stated_change_goes_to_the_lesion_of_its_clause():
    text = ("EXAM: CT CHEST\nFINDINGS: The right upper lobe nodule is stable at 4 mm, whereas the left lower lobe "
            "nodule has enlarged to 11 mm; the 5 mm lingular nodule has decreased.")
    stated = {lesion.name: lesion.stated and lesion.stated[0] for lesion in read_lesions(text)}
    assert stated == {"nodule right upper lobe": "unchanged", "nodule left lower lobe": "worsened",
                      "nodule lingula": "improved"}
    # "enlarged" as an adjective says abnormal size, not a change
    assert read_lesions("FINDINGS: Enlarged 16 mm right hilar lymph node.")[0].stated is None


def test_a_resolved_lesion_is_absent_and_compared_as_resolved():
    text = "EXAM: US THYROID\nFINDINGS: The right thyroid lobe cyst has resolved."
    lesion, = read_lesions(text)
    now = lesion_observation(lesion, text)
    entry, = compare_study([now], [_lesion("cyst right thyroid lobe", 6.0)], [], text)
    assert (lesion.assertion, entry.computed_change, entry.stated.change, entry.agreement) == \
        ("absent", "resolved", "resolved", "agree")


def test_lung_growth_by_lung_rads_other_organs_by_a_fifth():
    lung = lambda size: _lesion("nodule right upper lobe", size, organ="lung")  # noqa: E731
    kidney = lambda size: _lesion("mass left kidney", size, organ="kidney")  # noqa: E731
    change = lambda now, before: compare_study([now], [before], [], "")[0].computed_change  # noqa: E731
    assert change(lung(14.0), lung(12.0)) == "increased"  # > 1.5 mm, though under 20%
    assert change(lung(13.5), lung(12.0)) == "persistent"
    assert change(lung(10.0), lung(12.0)) == "decreased"
    assert change(kidney(11.9), kidney(10.0)) == "persistent" and change(kidney(12.0), kidney(10.0)) == "increased"


def test_improved_on_a_finding_still_present_is_not_a_disagreement():
    effusion = lambda: Observation("chexpert", "pleural effusion", "positive", "present")  # noqa: E731
    text = "FINDINGS: Small right pleural effusion, improved."
    stated = [StatedChange("right pleural effusion", "improved", text.index("right"), text.index(","))]
    entry, = compare_study([effusion()], [effusion()], stated, text)
    assert (entry.computed_change, entry.stated.change, entry.agreement) == ("persistent", "improved", "unchecked")
    # a measured finding: the direction decides, and only the wrong direction disagrees
    said = StatedChange("nodule", "worsened", 0, 6)
    assert agreement(said, "persistent", 1.0) == "agree" and agreement(said, "persistent", -1.0) == "disagree"
    assert agreement(said, "decreased", -4.0) == "disagree" and agreement(said, "increased", 4.0) == "agree"


def test_a_temporal_changes_row_inside_a_lesions_clause_is_the_lesions_not_a_stated_row():
    text = "EXAM: CT CHEST\nFINDINGS: The left lower lobe nodule measures 14 mm, stable over 6 months."
    lesion, = read_lesions(text)
    row = StatedChange("left lower lobe nodule", "unchanged", text.index("left"), text.index(" measures"))
    entries = compare_study([lesion_observation(lesion, text)], [_lesion(lesion.name, 12.0, organ="lung")], [row],
                            text)
    assert [(e.kind, e.computed_change, e.stated.change, e.agreement) for e in entries] == [
        ("lesion", "increased", "unchanged", "disagree")]


def test_stated_stable_but_grown_by_a_fifth_disagrees():
    text = "EXAM: CT ABDOMEN\nFINDINGS: The 12 mm lesion in liver segment 8 is stable."
    lesion, = read_lesions(text)
    now = [lesion_observation(lesion, text)]
    entry, = compare_study(now, [_lesion(lesion.name, 10.0, organ="liver")], [], text)
    assert (entry.computed_change, entry.size_change_pct, entry.stated.change, entry.agreement) == \
        ("increased", 20.0, "unchanged", "disagree")
    entry, = compare_study(now, [_lesion(lesion.name, 11.0, organ="liver")], [], text)
    assert (entry.computed_change, entry.agreement) == ("persistent", "agree")


def test_categories_presence_and_first_studies():
    rads = lambda cat, rank: Observation("rads", "Lung-RADS", cat, "present", rank)  # noqa: E731
    effusion = lambda a: Observation("chexpert", "pleural effusion", a, a)  # noqa: E731
    now = compare_study([rads("4A", 4), effusion("absent")], [rads("3", 3), effusion("present")], [], "")
    assert {(e.finding, e.computed_change) for e in now} == {("Lung-RADS", "category_up"),
                                                             ("pleural effusion", "resolved")}
    first = compare_study([rads("3", 3)], None, [StatedChange("nodule", "new", None, None)], "")
    assert [(e.kind, e.computed_change, e.agreement) for e in first] == [
        ("rads", "baseline", None), ("stated", None, "no_prior")]


def test_a_lesion_named_without_site_follows_the_priors_only_lesion_of_its_kind():
    text = "EXAM: CT CHEST\nFINDINGS: The pulmonary nodule is unchanged, 6 mm."
    lesion, = read_lesions(text)
    assert lesion.name == "nodule lung"
    prior = [_lesion("nodule right upper lobe", 6.0, organ="lung"), _lesion("cyst liver segment 4", 9.0, organ="liver")]
    now = follow_unsited([lesion_observation(lesion, text)], prior)
    entries = {e.finding: (e.computed_change, e.agreement) for e in compare_study(now, prior, [], text)}
    assert entries["nodule right upper lobe"] == ("persistent", "agree")
    # two candidate lesions of the kind: no guess
    two = prior + [_lesion("nodule left lower lobe", 4.0, organ="lung")]
    assert follow_unsited([lesion_observation(lesion, text)], two)[0].finding == "nodule lung"


def test_lesion_words_beyond_nodule_and_mass():
    text = ("EXAM: MRI ABDOMEN\nFINDINGS: 2.1 cm observation in segment VIII. Right adrenal adenoma, 16 mm. "
            "Two hepatic metastases, the largest 3 cm in segment 5. 9 mm lesion in the caudate lobe.")
    assert _named(text) == [("observation liver segment 8", 21.0), ("adenoma right adrenal", 16.0),
                            ("metastasis liver segment 5", 30.0), ("lesion liver caudate lobe", 9.0)]


def test_a_lesion_without_size_or_stated_change_is_not_followed():
    text = "EXAM: CT ABDOMEN\nFINDINGS: Mass effect on the bladder. Scattered renal cysts. 4 mm hepatic cyst, stable."
    assert _named(text) == [("cyst liver", 4.0)]
