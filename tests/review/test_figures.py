"""Figures from verdicts: a stratified sample's precision and miss rate equal a hand computation, the
interval never claims more certainty than the verdicts carry, and disputes count against the table."""

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from radlite.errors import ExitCode
from radlite.review.figures import ALL, MISS_RATE, PRECISION, compute
from radlite.review.gate import judge
from radlite.review.sample import SampleItem

Z = 1.959963984540054  # two-sided 95% normal quantile


def hand_wilson(p, n):
    """Wilson score interval written out: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def hand_kish(strata):
    """Kish's effective sample size for unequal weights: 1 / sum(W_h^2 / n_h); ``strata``: (rows, verdicts)."""
    total = sum(rows for rows, _ in strata)
    return 1 / sum((rows / total) ** 2 / n for rows, n in strata)


def table_of(strata, model="rules@1"):
    """Current items: ``rows`` per (label, status)."""
    return [SampleItem(item_id=f"{label}/{status}/{k}", table="abnormalities", report_id=f"r{k}",
                       task="abnormality_detection", label=label, status=status, value=status, model_id=model)
            for (label, status), rows in strata.items() for k in range(rows)]


def verdicts_on(label, status, verdicts, reviewer="ana", model="rules@1", first=0, adjudication=False):
    return [{"item_id": f"{label}/{status}/{k}", "table_name": "abnormalities", "reviewer": reviewer, "value": status,
             "model_id": model, "verdict": v, "adjudication": adjudication}
            for k, v in enumerate(verdicts, start=first)]


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
    # the interval's n is the smaller of Kish's 1 / sum(W_h^2 / n_h) and p(1-p) / var(p)
    p = 10 / 40 * 3 / 4 + 30 / 40 * 1 / 2
    var = (10 / 40) ** 2 * (3 / 4) * (1 / 4) / 4 + (30 / 40) ** 2 * (1 / 2) * (1 / 2) / 2
    n = min(hand_kish([(10, 4), (30, 2)]), p * (1 - p) / var)  # 3.368 and 3.360
    edema = figure(figures, "edema", PRECISION)
    assert edema.estimate == pytest.approx(0.5625)
    assert edema.effective_n == pytest.approx(3.36, abs=0.005) and edema.effective_n <= edema.decided
    assert (edema.low, edema.high) == pytest.approx(hand_wilson(p, n))
    assert (edema.decided, edema.hits, edema.cant_tell, edema.weighted) == (6, 4, 1, True)

    # the whole table's precision: three claim strata weighted 10:30:100
    p = (10 * 3 / 4 + 30 * 1 / 2 + 100 * 2 / 2) / 140
    var = ((10 / 140) ** 2 * (3 / 4) * (1 / 4) / 4 + (30 / 140) ** 2 * (1 / 4) / 2 + 0)
    n = min(hand_kish([(10, 4), (30, 2), (100, 2)]), p * (1 - p) / var)  # Kish 3.58 < 18.3: pneumonia's 2 of 2
    table = figure(figures, ALL, PRECISION)                                 # correct are not taken as certain
    assert table.estimate == pytest.approx(0.875) and table.effective_n == pytest.approx(3.58, abs=0.005)
    assert (table.low, table.high) == pytest.approx(hand_wilson(p, n))
    assert table.rows == 140 and table.rows_unreviewed == 0

    # miss rate: negatives 0/4 missed over 60 rows, not_mentioned 1/4 over 200; fracture has no verdict
    p = 200 / 260 * 1 / 4
    var = (200 / 260) ** 2 * (1 / 4) * (3 / 4) / 4
    n = min(hand_kish([(60, 4), (200, 4)]), p * (1 - p) / var)  # 6.20 and 5.60
    missed = figure(figures, ALL, MISS_RATE)
    assert missed.estimate == pytest.approx(p)
    assert (missed.low, missed.high) == pytest.approx(hand_wilson(p, n))
    assert (missed.rows, missed.rows_unreviewed, missed.decided, missed.hits) == (310, 50, 8, 1)

    # one stratum, all correct: plain Wilson on 2 of 2
    pneumonia = figure(figures, "pneumonia", PRECISION)
    assert pneumonia.estimate == 1.0 and not pneumonia.weighted
    assert (pneumonia.low, pneumonia.high) == pytest.approx(hand_wilson(1.0, 2))
    assert figure(figures, "fracture", MISS_RATE).estimate is None


def test_stale_verdicts_are_not_counted_and_a_dispute_counts_as_incorrect():
    items = table_of({("edema", "positive"): 4})
    verdicts = (verdicts_on("edema", "positive", ["correct", "correct"])
                + verdicts_on("edema", "positive", ["incorrect"], reviewer="ben")  # disagrees on item 0
                + verdicts_on("edema", "positive", ["correct"] * 4, reviewer="cy", model="old-model"))  # stale
    figures = compute(verdicts, items)
    edema = figure(figures, "edema", PRECISION)
    assert (edema.decided, edema.hits, edema.disputed) == (2, 1, 1)  # item 0 counts as incorrect
    assert (figures.coverage[0].stale, figures.coverage[0].disputed) == (4, 1)
    [dispute] = figures.open_disputes("abnormalities")
    assert dispute.item_id == "edema/positive/0" and dispute.verdicts == {"ana": "correct", "ben": "incorrect"}
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


def test_one_stratum_gives_statsmodels_wilson_interval():
    """Reference: statsmodels' proportion_confint(method="wilson"). 3 misses in 26 verdicts: 0.0400-0.2898."""
    figures = compute(verdicts_on("edema", "negative", ["incorrect"] * 3 + ["correct"] * 23),
                      table_of({("edema", "negative"): 500}))
    missed = figure(figures, ALL, MISS_RATE)
    assert (missed.low, missed.high) == pytest.approx(proportion_confint(3, 26, alpha=0.05, method="wilson"))
    assert (missed.low, missed.high) == pytest.approx((0.0400, 0.2898), abs=5e-5)
    assert missed.effective_n == pytest.approx(26) and not missed.weighted


# The issue's case, written out by hand (synthetic): five no-claim strata of one table.
#   stratum                  rows  W_h = rows/1700   verdicts n_h  misses  p_h
#   edema negative            100  0.0588            2             2       1.0
#   edema not_mentioned       400  0.2353            5             0       0
#   fracture negative         800  0.4706            6             0       0
#   fracture not_mentioned    200  0.1176            8             0       0
#   pneumonia negative        200  0.1176            5             1       0.2
# p = (100 * 1.0 + 200 * 0.2) / 1700 = 0.08235; 3 misses in 26 verdicts.
# Variance summing W_h^2 p_h (1 - p_h) / n_h has one non-zero term, (200/1700)^2 * 0.2 * 0.8 / 5 = 0.000443:
# every stratum with no misses (and the one with only misses) counts as certain, p(1-p)/var = 170.6 and the
# Wilson interval at n = 170.6 is 0.0497-0.1334, which a gate at --max-miss-rate 0.15 passed.
# Kish: sum W_h^2 / n_h = (100^2/2 + 400^2/5 + 800^2/6 + 200^2/8 + 200^2/5) / 1700^2 = 156666.7 / 2890000
# = 0.054210, so n = 18.447 (< 26: the sample over-draws small strata), and Wilson at (0.08235, 18.447) is
# 0.0194-0.2893: wider than the plain Wilson interval of 3/26 (0.0400-0.2898, width 0.2497).
ISSUE_CASE = {("edema", "negative"): (100, ["incorrect"] * 2),
              ("edema", "not_mentioned"): (400, ["correct"] * 5),
              ("fracture", "negative"): (800, ["correct"] * 6),
              ("fracture", "not_mentioned"): (200, ["correct"] * 8),
              ("pneumonia", "negative"): (200, ["incorrect"] + ["correct"] * 4)}


def test_strata_with_no_misses_are_not_taken_as_certain():
    items = table_of({key: rows for key, (rows, _) in ISSUE_CASE.items()})
    verdicts = [v for (label, status), (_, given) in ISSUE_CASE.items() for v in verdicts_on(label, status, given)]
    p = 140 / 1700
    variance_free = p * (1 - p) / ((200 / 1700) ** 2 * 0.2 * 0.8 / 5)  # the count that let the gate pass
    assert variance_free == pytest.approx(170.6, abs=0.05) and hand_wilson(p, variance_free)[1] < 0.15
    missed = figure(compute(verdicts, items), ALL, MISS_RATE)
    assert (missed.decided, missed.hits) == (26, 3)
    assert missed.estimate == pytest.approx(140 / 1700)
    assert missed.effective_n == pytest.approx(2890000 / 156666.67, abs=1e-3)  # 18.447
    assert (missed.low, missed.high) == pytest.approx(hand_wilson(140 / 1700, 2890000 / 156666.67))
    assert (missed.low, missed.high) == pytest.approx((0.0194, 0.2893), abs=5e-5)
    plain_low, plain_high = proportion_confint(3, 26, alpha=0.05, method="wilson")
    assert missed.high - missed.low >= plain_high - plain_low
    gate = judge(compute(verdicts, items), "abnormalities", None, 0.15)
    assert gate.code == ExitCode.REVIEW_BELOW and "upper bound 0.289 > 0.15" in gate.message


def test_a_dissenting_reviewer_blocks_the_gate_until_adjudicated_and_never_improves_a_figure():
    """ana finds 3 misses in 26; ben flips those 3 and 2 more. Dropped, the 5 disputes would leave 0 misses in
    21; counted as incorrect they give 5 in 26, and the gate exits 6 naming them until adjudicated."""
    items = table_of({("edema", "negative"): 200})
    ana = verdicts_on("edema", "negative", ["incorrect"] * 3 + ["correct"] * 23)
    ben = verdicts_on("edema", "negative", ["correct"] * 3 + ["incorrect"] * 2 + ["correct"] * 21, reviewer="ben")
    figures = compute(ana + ben, items)
    missed = figure(figures, ALL, MISS_RATE)
    assert (missed.decided, missed.hits, missed.disputed) == (26, 5, 5)
    assert missed.estimate == pytest.approx(5 / 26)
    gate = judge(figures, "abnormalities", None, 0.5)
    assert gate.code == ExitCode.REVIEW_STALE and "5 open disputes" in gate.message
    assert "edema/negative/0 (edema 'negative': ana incorrect, ben correct)" in gate.message

    # cleo adjudicates: the first three were misses, the next two were not
    settled = (verdicts_on("edema", "negative", ["incorrect"] * 3, reviewer="cleo", adjudication=True)
               + verdicts_on("edema", "negative", ["correct"] * 2, reviewer="cleo", first=3, adjudication=True))
    figures = compute(ana + ben + settled, items)
    missed = figure(figures, ALL, MISS_RATE)
    assert (missed.decided, missed.hits, missed.disputed) == (26, 3, 0)
    assert figures.coverage[0].disputed == 0 and figures.coverage[0].adjudicated == 5
    assert judge(figures, "abnormalities", None, 0.5).code == ExitCode.OK
    assert judge(figures, "abnormalities", None, 0.15).code == ExitCode.REVIEW_BELOW  # upper bound 0.290
    [agreement] = figures.agreements  # the adjudicator is not a reviewer
    assert agreement.reviewers == ("ana", "ben") and agreement.items == 26
    # kappa by hand: observed 21/26; ana says incorrect 3/26, ben 2/26
    expected = (3 / 26) * (2 / 26) + (23 / 26) * (24 / 26)
    assert agreement.kappa == pytest.approx((21 / 26 - expected) / (1 - expected))


def test_strata_include_the_model_that_made_the_value():
    """90 rows by the rules, 10 by an adapter: each model's precision is weighted by its own rows."""
    items = table_of({("edema", "positive"): 90}) + table_of({("edema", "positive"): 10}, model="adapter.gguf")
    for k, item in enumerate(items[90:]):
        items[90 + k] = item.model_copy(update={"item_id": f"adapter/{k}"})
    verdicts = verdicts_on("edema", "positive", ["correct"] * 2) + [
        {"item_id": f"adapter/{k}", "table_name": "abnormalities", "reviewer": "ana", "value": "positive",
         "model_id": "adapter.gguf", "verdict": v} for k, v in enumerate(["correct", "incorrect"])]
    figures = compute(verdicts, items)
    edema = figure(figures, "edema", PRECISION)
    assert edema.estimate == pytest.approx(0.9 * 1.0 + 0.1 * 0.5) and edema.weighted
    assert figures.coverage[0].verdicts_by_model == {"rules@1": 2, "adapter.gguf": 2}
