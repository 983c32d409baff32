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
