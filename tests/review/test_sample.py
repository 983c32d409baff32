"""Drawing a sample: equal shares per stratum, rare strata drawn, the same seed draws the same sample."""

from radlite.review.sample import SampleItem, allocate, draw


def test_allocation_shares_equally_and_gives_a_small_stratums_rest_to_the_others():
    assert allocate({("a",): 100, ("b",): 2, ("c",): 50}, 30) == {("a",): 14, ("b",): 2, ("c",): 14}
    assert allocate({("a",): 3, ("b",): 2}, 10) == {("a",): 3, ("b",): 2}


def _items(n, status):
    return [SampleItem(item_id=f"{status}{k}", table="abnormalities", report_id=f"r{k}", task="t", label="edema",
                       status=status, value=status, model_id="m") for k in range(n)]


def test_stratified_draw_takes_rare_statuses_and_repeats_with_its_seed():
    items = _items(500, "not_mentioned") + _items(3, "positive")
    drawn = draw(items, 10, ["status"], seed=7)
    assert sum(i.status == "positive" for i in drawn) == 3
    assert [i.item_id for i in drawn] == [i.item_id for i in draw(list(reversed(items)), 10, ["status"], seed=7)]
    assert [i.item_id for i in drawn] != [i.item_id for i in draw(items, 10, ["status"], seed=8)]
    assert len(draw(items, 10, [], seed=7)) == 10


def test_site_rows_are_their_own_review_items_and_report_rows_keep_their_ids():
    """'primary NI-RADS 2a, neck NI-RADS 1': each site's row can be drawn and judged apart from the report's
    row, and a report row (no site) has the id it had before site rows existed."""
    from radlite.hashing import stable_id
    from radlite.review.sample import to_item
    from radlite.review.views import VIEWS

    common = {"report_id": "r1", "task": "rads_assignment", "system": "NI-RADS", "model_id": "radlite-rules"}
    report_row = {**common, "label": "NI-RADS 2a", "scope": "report", "site": None}
    site_rows = [{**common, "label": "NI-RADS 2a", "scope": "site", "site": "primary site"},
                 {**common, "label": "NI-RADS 1", "scope": "site", "site": "neck"}]
    items = [to_item(VIEWS["rads"], row) for row in [report_row, *site_rows]]
    assert len({i.item_id for i in items}) == 3
    assert items[0].item_id == stable_id("rads", "r1", "rads_assignment")
    assert [i.label for i in items] == ["NI-RADS", "NI-RADS (primary site)", "NI-RADS (neck)"]
