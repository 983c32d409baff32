"""Figures from verdicts: a stratified sample's precision and miss rate equal a hand computation."""

import math

import pytest

from radlite.review.figures import ALL, MISS_RATE, PRECISION, compute
from radlite.review.sample import SampleItem

Z = 1.959963984540054  # two-sided 95% normal quantile


def hand_wilson(p, n):
    """Wilson score interval written out: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def table_of(strata, model="rules@1"):
    """Current items: ``rows`` per (label, status)."""
    return [SampleItem(item_id=f"{label}/{status}/{k}", table="abnormalities", report_id=f"r{k}",
                       task="abnormality_detection", label=label, status=status, value=status, model_id=model)
            for (label, status), rows in strata.items() for k in range(rows)]


def verdicts_on(label, status, verdicts, reviewer="ana", model="rules@1"):
    return [{"item_id": f"{label}/{status}/{k}", "table_name": "abnormalities", "reviewer": reviewer, "value": status,
             "model_id": model, "verdict": v} for k, v in enumerate(verdicts)]


STRATA = {("edema", "positive"): 10, ("edema", "uncertain"): 30, ("edema", "negative"): 60,
          ("pneumonia", "positive"): 100, ("pneumonia", "not_mentioned"): 200, ("fracture", "negative"): 50}
VERDICTS = (verdicts_on("edema", "positive", ["correct"] * 3 + ["incorrect", "cant_tell"])
            + verdicts_on("edema", "uncertain", ["correct", "incorrect"])
            + verdicts_on("edema", "negative", ["correct"] * 4)
            + verdicts_on("pneumonia", "positive", ["correct"] * 2)
            + verdicts_on("pneumonia", "not_mentioned", ["correct"] * 3 + ["incorrect"]))


def figure(figures, label, measure):
    return next(f for f in figures.figures if f.label == label and f.measure == measure)


def test_stratified_figures_equal_a_hand_computation():
    figures = compute(VERDICTS, table_of(STRATA))

    # edema precision: positive 3/4 correct over 10 rows, uncertain 1/2 over 30 rows
    p = 10 / 40 * 3 / 4 + 30 / 40 * 1 / 2
    var = (10 / 40) ** 2 * (3 / 4) * (1 / 4) / 4 + (30 / 40) ** 2 * (1 / 2) * (1 / 2) / 2
    edema = figure(figures, "edema", PRECISION)
    assert edema.estimate == pytest.approx(0.5625)
    assert (edema.low, edema.high) == pytest.approx(hand_wilson(p, p * (1 - p) / var))
    assert (edema.decided, edema.hits, edema.cant_tell, edema.weighted) == (6, 4, 1, True)

    # the whole table's precision: three claim strata weighted 10:30:100
    p = (10 * 3 / 4 + 30 * 1 / 2 + 100 * 2 / 2) / 140
    var = ((10 / 140) ** 2 * (3 / 4) * (1 / 4) / 4 + (30 / 140) ** 2 * (1 / 4) / 2 + 0)
    table = figure(figures, ALL, PRECISION)
    assert table.estimate == pytest.approx(0.875)
    assert (table.low, table.high) == pytest.approx(hand_wilson(p, p * (1 - p) / var))
    assert table.rows == 140 and table.rows_unreviewed == 0

    # miss rate: negatives 0/4 missed over 60 rows, not_mentioned 1/4 over 200; fracture has no verdict
    p = 200 / 260 * 1 / 4
    var = (200 / 260) ** 2 * (1 / 4) * (3 / 4) / 4
    missed = figure(figures, ALL, MISS_RATE)
    assert missed.estimate == pytest.approx(p)
    assert (missed.low, missed.high) == pytest.approx(hand_wilson(p, p * (1 - p) / var))
    assert (missed.rows, missed.rows_unreviewed, missed.decided, missed.hits) == (310, 50, 8, 1)

    # one stratum, all correct: plain Wilson on 2 of 2
    pneumonia = figure(figures, "pneumonia", PRECISION)
    assert pneumonia.estimate == 1.0 and not pneumonia.weighted
    assert (pneumonia.low, pneumonia.high) == pytest.approx(hand_wilson(1.0, 2))
    assert figure(figures, "fracture", MISS_RATE).estimate is None


def test_stale_and_disputed_verdicts_are_not_counted():
    items = table_of({("edema", "positive"): 4})
    verdicts = (verdicts_on("edema", "positive", ["correct", "correct"])
                + verdicts_on("edema", "positive", ["incorrect"], reviewer="ben")  # disagrees on item 0
                + verdicts_on("edema", "positive", ["correct"] * 4, reviewer="cy", model="old-model"))  # stale
    figures = compute(verdicts, items)
    edema = figure(figures, "edema", PRECISION)
    assert (edema.decided, edema.hits) == (1, 1)
    assert (figures.coverage[0].stale, figures.coverage[0].disputed) == (4, 1)
    only_ben = compute(verdicts, items, reviewer="ben")
    assert figure(only_ben, "edema", PRECISION).estimate == 0.0


def test_cohens_kappa_of_two_reviewers_equals_a_hand_computation():
    items = table_of({("edema", "positive"): 10})
    a = ["correct"] * 5 + ["incorrect"] * 5
    b = ["correct"] * 4 + ["incorrect"] + ["correct"] * 2 + ["incorrect"] * 3
    figures = compute(verdicts_on("edema", "positive", a) + verdicts_on("edema", "positive", b, reviewer="ben"),
                      items)
    [agreement] = figures.agreements
    observed = 7 / 10
    expected = (5 / 10) * (6 / 10) + (5 / 10) * (4 / 10)
    assert agreement.reviewers == ("ana", "ben") and agreement.items == 10
    assert agreement.observed == pytest.approx(observed)
    assert agreement.kappa == pytest.approx((observed - expected) / (1 - expected))
