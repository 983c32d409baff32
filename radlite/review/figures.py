"""How far to trust each table on a site's own reports: figures from the reviewers' verdicts.

For each table and label, **precision** of claims (positive, uncertain, assigned values: correct /
(correct + incorrect)) and **miss rate** of no-claims (negative, not_mentioned, none: incorrect /
(correct + incorrect)); "can't tell" counts for neither. Each figure comes with a Wilson 95% interval.

Strata are (table, label, status). A figure over several strata (a label's positive and uncertain values,
or a whole table) weights each reviewed stratum by its share of the table's current rows:
p = sum(W_h * p_h), and its interval is Wilson's at the effective sample size p(1-p) / var(p), with
var(p) = sum(W_h^2 * p_h(1-p_h) / n_h) (the plain count n when var(p) is 0). So a sample that over-draws
rare labels still estimates the table as it is. No finite-population correction (the interval is wider).

A verdict is *current* while the table's current row for its item has the same value and model_id;
otherwise it is *stale* and not counted. With several reviewers an item counts once: with their common
verdict, or as *disputed* (not counted) when their verdicts differ; Cohen's kappa measures their agreement.

statsmodels (the ``eval`` extra) is imported in ``_stats`` only, so the rest of radlite runs without it.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict
from itertools import combinations

from pydantic import BaseModel

from radlite.review.sample import SampleItem, candidates
from radlite.review.views import is_claim
from radlite.store import OutputStore

ALL = "(all)"
PRECISION = "precision"
MISS_RATE = "miss_rate"


def _stats():
    """statsmodels' proportion and inter-rater modules, or a one-line error naming the extra to install."""
    try:
        from statsmodels.stats import inter_rater, proportion
    except ImportError:
        raise RuntimeError("radlite review needs statsmodels: pip install 'radlite[eval]'") from None
    return proportion, inter_rater


class StratumCount(BaseModel):
    """One (table, label, status): current rows, and the counted verdicts on them."""

    table: str
    label: str
    status: str
    rows: int
    correct: int = 0
    incorrect: int = 0
    cant_tell: int = 0

    @property
    def measure(self) -> str:
        return PRECISION if is_claim(self.status) else MISS_RATE

    @property
    def decided(self) -> int:
        return self.correct + self.incorrect

    @property
    def hits(self) -> int:
        """Verdicts that the measure counts: correct claims (precision) or incorrect no-claims (miss rate)."""
        return self.correct if self.measure == PRECISION else self.incorrect


class Figure(BaseModel):
    """A precision or miss rate of one label (or ALL labels) of a table, with its Wilson 95% interval."""

    table: str
    label: str
    measure: str
    estimate: float | None
    low: float | None
    high: float | None
    #: Items with a correct/incorrect verdict, and of them the ones the measure counts.
    decided: int
    hits: int
    cant_tell: int
    #: Current rows of the strata the figure covers, and of those in strata with no decided verdict.
    rows: int
    rows_unreviewed: int
    #: True when strata were weighted by their share of rows (more than one reviewed stratum).
    weighted: bool


class Agreement(BaseModel):
    """Cohen's kappa of two reviewers over the items both judged."""

    reviewers: tuple[str, str]
    items: int
    observed: float
    kappa: float | None


class Coverage(BaseModel):
    """Per table: which models made its current rows and whether current verdicts cover each."""

    table: str
    rows_by_model: dict[str, int]
    verdicts_by_model: dict[str, int]
    stale: int
    disputed: int

    @property
    def unreviewed_models(self) -> list[str]:
        return sorted(m for m in self.rows_by_model if not self.verdicts_by_model.get(m))


class Figures(BaseModel):
    figures: list[Figure]
    agreements: list[Agreement]
    coverage: list[Coverage]

    def table_figure(self, table: str, measure: str) -> Figure | None:
        return next((f for f in self.figures if f.table == table and f.label == ALL and f.measure == measure), None)


def wilson(hits: float, n: float) -> tuple[float, float]:
    """Wilson score 95% interval of hits / n (statsmodels' proportion_confint)."""
    proportion, _ = _stats()
    low, high = proportion.proportion_confint(hits, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def combine(table: str, label: str, strata: list[StratumCount]) -> Figure:
    """One figure over strata of one measure, weighted by their rows (see the module docstring)."""
    reviewed = [s for s in strata if s.decided]
    rows = sum(s.rows for s in strata)
    base = dict(table=table, label=label, measure=strata[0].measure, decided=sum(s.decided for s in strata),
                hits=sum(s.hits for s in strata), cant_tell=sum(s.cant_tell for s in strata), rows=rows,
                rows_unreviewed=sum(s.rows for s in strata if not s.decided), weighted=len(reviewed) > 1)
    if not reviewed:
        return Figure(estimate=None, low=None, high=None, **base)
    total = sum(s.rows for s in reviewed)
    weights = [s.rows / total for s in reviewed]
    shares = [s.hits / s.decided for s in reviewed]
    p = sum(w * q for w, q in zip(weights, shares))
    var = sum(w * w * q * (1 - q) / s.decided for w, q, s in zip(weights, shares, reviewed))
    n_eff = p * (1 - p) / var if var > 0 else float(base["decided"])
    low, high = wilson(p * n_eff, n_eff)
    return Figure(estimate=p, low=low, high=high, **base)


def item_verdicts(verdicts: list[dict], current: dict[str, SampleItem]) -> tuple[dict[str, str], int, int]:
    """One verdict per current item (the reviewers' common one), and the counts of stale and disputed ones."""
    by_item: dict[str, set[str]] = defaultdict(set)
    stale = 0
    for v in verdicts:
        now = current.get(v["item_id"])
        if now is None or (now.value, now.model_id) != (v["value"], v["model_id"]):
            stale += 1
            continue
        by_item[v["item_id"]].add(v["verdict"])
    decided = {}
    disputed = 0
    for item, found in by_item.items():
        sure = found - {"cant_tell"}
        if len(sure) > 1:
            disputed += 1
        else:
            decided[item] = sure.pop() if sure else "cant_tell"
    return decided, stale, disputed


def agreements(verdicts: list[dict], current: dict[str, SampleItem]) -> list[Agreement]:
    """Cohen's kappa for each pair of reviewers over the current items both judged."""
    _, inter_rater = _stats()
    by_reviewer: dict[str, dict[str, str]] = defaultdict(dict)
    for v in verdicts:
        now = current.get(v["item_id"])
        if now is not None and (now.value, now.model_id) == (v["value"], v["model_id"]):
            by_reviewer[v["reviewer"]][v["item_id"]] = v["verdict"]
    found = []
    for a, b in combinations(sorted(by_reviewer), 2):
        both = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
        if not both:
            continue
        categories = sorted({by_reviewer[r][i] for r in (a, b) for i in both})
        index = {c: k for k, c in enumerate(categories)}
        counts = [[0] * len(categories) for _ in categories]
        for i in both:
            counts[index[by_reviewer[a][i]]][index[by_reviewer[b][i]]] += 1
        observed = sum(counts[k][k] for k in range(len(categories))) / len(both)
        with warnings.catch_warnings():  # statsmodels divides by a zero standard error on perfect agreement
            warnings.simplefilter("ignore", RuntimeWarning)
            kappa = float(inter_rater.cohens_kappa(counts).kappa) if len(categories) > 1 else None
        found.append(Agreement(reviewers=(a, b), items=len(both), observed=observed,
                               kappa=None if kappa is None or math.isnan(kappa) else kappa))
    return found


def compute(verdicts: list[dict], current: list[SampleItem], reviewer: str | None = None) -> Figures:
    """The figures of the tables that have verdicts, from the current review_verdicts rows and the
    current reviewable rows of those tables (``radlite.review.sample.candidates``)."""
    if reviewer is not None:
        verdicts = [v for v in verdicts if v["reviewer"] == reviewer]
    by_id = {item.item_id: item for item in current}
    decided, _, _ = item_verdicts(verdicts, by_id)
    tables = sorted({v["table_name"] for v in verdicts})
    figures: list[Figure] = []
    coverage: list[Coverage] = []
    for table in tables:
        rows = [i for i in current if i.table == table]
        strata = {k: StratumCount(table=table, label=k[0], status=k[1], rows=n)
                  for k, n in sorted(Counter((i.label, i.status) for i in rows).items())}
        for item in rows:
            if item.item_id in decided:
                stratum = strata[(item.label, item.status)]
                setattr(stratum, decided[item.item_id], getattr(stratum, decided[item.item_id]) + 1)
        figures.extend(table_figures(table, list(strata.values())))
        own = [v for v in verdicts if v["table_name"] == table]
        _, stale, disputed = item_verdicts(own, by_id)
        coverage.append(Coverage(table=table, rows_by_model=dict(Counter(i.model_id for i in rows)),
                                 verdicts_by_model=dict(Counter(by_id[i].model_id for i, v in decided.items()
                                                                if by_id[i].table == table and v != "cant_tell")),
                                 stale=stale, disputed=disputed))
    return Figures(figures=figures, agreements=agreements(verdicts, by_id), coverage=coverage)


def table_figures(table: str, strata: list[StratumCount]) -> list[Figure]:
    """Per label and measure, then the whole table per measure."""
    found = []
    for measure in (PRECISION, MISS_RATE):
        own = [s for s in strata if s.measure == measure]
        if not own:
            continue
        for label in sorted({s.label for s in own}):
            found.append(combine(table, label, [s for s in own if s.label == label]))
        found.append(combine(table, ALL, own))
    return found


def from_store(store: OutputStore, reviewer: str | None = None) -> Figures:
    """The figures of OUT: its current verdicts against its current rows."""
    verdicts = store.read_table("review_verdicts").to_pylist()
    tables = sorted({v["table_name"] for v in verdicts})
    return compute(verdicts, candidates(store, tables), reviewer)
