"""The gate: a model change makes the verdicts stale and the gate says so; a low bound refuses the table."""

from test_figures import table_of, verdicts_on

from radlite.errors import ExitCode
from radlite.review.figures import compute
from radlite.review.gate import judge

VERDICTS = verdicts_on("edema", "positive", ["correct"] * 20) + verdicts_on("edema", "negative", ["correct"] * 5)
STRATA = {("edema", "positive"): 40, ("edema", "negative"): 40}


def test_a_model_change_makes_the_verdicts_stale():
    assert judge(compute(VERDICTS, table_of(STRATA)), "abnormalities", 0.8, None).code == ExitCode.OK
    changed = judge(compute(VERDICTS, table_of(STRATA, model="rules@2")), "abnormalities", 0.8, None)
    assert changed.code == ExitCode.REVIEW_STALE
    assert "stale" in changed.message and "rules@2" in changed.message and "25 stale" in changed.message


def test_rows_of_a_new_model_beside_reviewed_ones_are_not_covered():
    items = table_of(STRATA) + [i.model_copy(update={"item_id": i.item_id + "n", "model_id": "adapter.gguf"})
                                for i in table_of({("edema", "positive"): 3})]
    result = judge(compute(VERDICTS, items), "abnormalities", 0.5, None)
    assert result.code == ExitCode.REVIEW_STALE and "3 of 83 rows are made by adapter.gguf" in result.message


def test_bounds_refuse_a_table():
    verdicts = verdicts_on("edema", "positive", ["correct"] * 15 + ["incorrect"] * 5) + \
        verdicts_on("edema", "negative", ["correct"] * 4 + ["incorrect"])
    figures = compute(verdicts, table_of(STRATA))
    assert judge(figures, "abnormalities", 0.5, None).code == ExitCode.OK
    below = judge(figures, "abnormalities", 0.7, None)  # 15/20 = 0.75, Wilson lower bound 0.53
    assert below.code == ExitCode.REVIEW_BELOW and "lower bound 0.531 < 0.7" in below.message
    assert judge(figures, "abnormalities", None, 0.3).code == ExitCode.REVIEW_BELOW  # 1/5 missed, upper 0.62
    assert judge(figures, "rads", 0.5, None).code == ExitCode.REVIEW_STALE


def test_a_complete_review_is_not_stale_for_a_model_with_one_row():
    """One row of 61 was made by an adapter. Strata without model_id may never draw it, and a review of every
    drawn item is then 'stale'; the default strata (with model_id) draw it."""
    from radlite.review.sample import DEFAULT_STRATIFY, draw

    items = table_of({("edema", "positive"): 30, ("edema", "negative"): 30})
    items.append(items[0].model_copy(update={"item_id": "adapter-row", "model_id": "adapter.gguf"}))

    def review_all(drawn):
        return [{"item_id": i.item_id, "table_name": i.table, "reviewer": "ana", "value": i.value,
                 "model_id": i.model_id, "verdict": "correct"} for i in drawn]

    old = draw(items, 12, ["table", "label", "status"], seed=0)
    assert "adapter-row" not in {i.item_id for i in old}
    assert judge(compute(review_all(old), items), "abnormalities", 0.1, None).code == ExitCode.REVIEW_STALE

    drawn = draw(items, 12, list(DEFAULT_STRATIFY), seed=0)
    assert "adapter-row" in {i.item_id for i in drawn}
    assert judge(compute(review_all(drawn), items), "abnormalities", 0.1, None).code == ExitCode.OK
