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


def test_a_row_that_only_says_nothing_was_found_is_not_a_claim():
    """A temporal_changes row with no finding and no change ("None: None" before) and an entities row with no
    entity are no-claims: their verdicts measure the miss rate, never precision."""
    from radlite.review.sample import to_item
    from radlite.review.views import VIEWS, is_claim

    common = {"report_id": "r1", "model_id": "m"}
    empty_change = to_item(VIEWS["temporal_changes"], {**common, "task": "temporal_comparison", "finding": None,
                                                       "change": None})
    change = to_item(VIEWS["temporal_changes"], {**common, "task": "temporal_comparison", "finding": "effusion",
                                                 "change": "improved"})
    no_entity = to_item(VIEWS["entities"], {**common, "task": "radiology_ner", "entity_index": None, "label": None,
                                            "text": None})
    assert (empty_change.status, empty_change.value) == ("none", "No change since the prior found")
    assert (change.status, change.value) == ("positive", "effusion: improved")
    assert (no_entity.status, no_entity.value) == ("none", "No entity found")
    assert not is_claim(empty_change.status) and not is_claim(no_entity.status) and is_claim(change.status)
