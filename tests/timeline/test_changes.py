"""Computed change against the prior study, stated change attached to its finding, and their agreement."""

from radlite.timeline.changes import Observation, StatedChange, compare_study
from radlite.timeline.lesions import sized_lesions


def _lesion(name, size, start=0):
    return Observation("lesion", name, f"{size:g} mm", "present", None, size, start, start + 10, name)


def test_sized_lesions_read_the_current_size_not_the_prior_one():
    text = ("FINDINGS: The right upper lobe nodule now measures 9 mm (previously 6 mm). "
            "Liver lesion measuring 1.2 cm.\nIMPRESSION: Lung-RADS 4A.")
    assert [(lesion.name, lesion.size_mm) for lesion in sized_lesions(text)] == [
        ("nodule right upper lobe", 9.0), ("lesion liver", 12.0)]
    assert sized_lesions("INDICATION: 5 mm nodule follow-up.\nFINDINGS: No nodule.") == []


def test_stated_stable_but_grown_by_a_fifth_disagrees():
    text = "FINDINGS: The 6 mm solid nodule in the right upper lobe is stable."
    stated = [StatedChange("right upper lobe", "unchanged", text.index("right"), text.index(" is"))]
    entry, = compare_study([_lesion("nodule right upper lobe", 6.0, 14)], [_lesion("nodule right upper lobe", 5.0)],
                           stated, text)
    assert (entry.computed_change, entry.size_change_pct, entry.stated.change, entry.agreement) == \
        ("increased", 20.0, "unchanged", "disagree")
    entry, = compare_study([_lesion("nodule right upper lobe", 5.5, 14)], [_lesion("nodule right upper lobe", 5.0)],
                           stated, text)
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
