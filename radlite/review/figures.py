"""How far to trust each table on a site's own reports: figures from the reviewers' verdicts.

For each table and label, **precision** of claims (positive, uncertain, assigned values: correct /
(correct + incorrect)) and **miss rate** of no-claims (negative, not_mentioned, none: incorrect /
(correct + incorrect)); "can't tell" counts for neither. Each figure comes with a Wilson 95% interval.

Strata are (table, label, status, model_id). A figure over several strata weights each reviewed stratum by
its share of the table's current rows: p = sum(W_h * p_h). Its interval is Wilson's at an effective sample
size that never exceeds the number of verdicts and never treats a stratum with no misses (or no errors) as
certain: the smaller of

- Kish's effective size for unequal weights, 1 / sum(W_h^2 / n_h) (Kish 1965, *Survey Sampling*; Kish
  1992, "Weighting for unequal P_i", J. Official Statistics 8:183-200), which depends on the weights and
  counts only, is at most n, and is n for a proportional sample; and
- the variance-based size p(1-p) / sum(W_h^2 p_h(1-p_h) / n_h) (Korn & Graubard 1998, Survey Methodology
  24:193-201), where that variance is not 0.

With one stratum both are n and the interval is the plain Wilson interval. No finite-population correction.

A verdict is *current* while the table's current row for its item has the same value and model_id;
otherwise it is *stale* and not counted. With several reviewers an item counts once with their common
verdict. Items they disagree on are *disputes*: until ``radlite review adjudicate`` records a verdict for
them (which then counts instead), a dispute counts as ``incorrect`` (the verdict that counts against the
table in both measures), so a dissenting reviewer can never improve a figure, and the gate refuses while
any is open. Cohen's kappa measures the reviewers' agreement (adjudications are not a reviewer).

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
#: What an open dispute counts as: the verdict that counts against the table in both measures.
DISPUTED_COUNTS_AS = "incorrect"


def _stats():
    """statsmodels' proportion and inter-rater modules, or a one-line error naming the extra to install."""
    try:
        from statsmodels.stats import inter_rater, proportion
    except ImportError:
        raise RuntimeError("radlite review needs statsmodels: pip install 'radlite[eval]'") from None
    return proportion, inter_rater


def measure_of(status: str) -> str:
    """A claim's verdict measures precision; a no-claim's, the miss rate."""
    return PRECISION if is_claim(status) else MISS_RATE


class StratumCount(BaseModel):
    """One (table, label, status, model_id): current rows, and the counted verdicts on them."""

    table: str
    label: str
    status: str
    model_id: str = ""
    rows: int
    correct: int = 0
    incorrect: int = 0
    cant_tell: int = 0

    @property
    def measure(self) -> str:
        return measure_of(self.status)

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
    #: The sample size the interval was computed at (see the module docstring); at most ``decided``.
    effective_n: float | None = None
    #: Open disputes among the decided items (each counted as incorrect).
    disputed: int = 0


class Agreement(BaseModel):
    """Cohen's kappa of two reviewers over the items both judged."""

    reviewers: tuple[str, str]
    items: int
    observed: float
    kappa: float | None


class Dispute(BaseModel):
    """A current item two or more reviewers gave different correct/incorrect verdicts on."""

    item_id: str
    table: str
    task: str
    label: str
    status: str
    report_id: str
    value: str
    model_id: str
    #: Each reviewer's verdict.
    verdicts: dict[str, str]
    #: The adjudicated verdict that settles it (``radlite review adjudicate``), or None while open.
    adjudicated: str | None = None
    adjudicator: str | None = None

    @property
    def open(self) -> bool:
        return self.adjudicated is None


class Coverage(BaseModel):
    """Per table: which models made its current rows and whether current verdicts cover each."""

    table: str
    rows_by_model: dict[str, int]
    verdicts_by_model: dict[str, int]
    stale: int
    #: Open disputes (not yet adjudicated) and settled ones.
    disputed: int
    adjudicated: int = 0

    @property
    def unreviewed_models(self) -> list[str]:
        return sorted(m for m in self.rows_by_model if not self.verdicts_by_model.get(m))


class Figures(BaseModel):
    figures: list[Figure]
    agreements: list[Agreement]
    coverage: list[Coverage]
    #: Every dispute on a current item, open or adjudicated.
    disputes: list[Dispute] = []

    def table_figure(self, table: str, measure: str) -> Figure | None:
        return next((f for f in self.figures if f.table == table and f.label == ALL and f.measure == measure), None)

    def open_disputes(self, table: str | None = None) -> list[Dispute]:
        return [d for d in self.disputes if d.open and (table is None or d.table == table)]


class Settled(BaseModel):
    """The verdict that counts per current item, with what was left out or disputed on the way."""

    #: item id -> correct / incorrect / cant_tell (an open dispute counts as DISPUTED_COUNTS_AS).
    counted: dict[str, str]
    #: Stale verdicts per table.
    stale: dict[str, int]
    disputes: list[Dispute]


def wilson(hits: float, n: float) -> tuple[float, float]:
    """Wilson score 95% interval of hits / n (statsmodels' proportion_confint)."""
    proportion, _ = _stats()
    low, high = proportion.proportion_confint(hits, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def effective_n(weights: list[float], shares: list[float], counts: list[int]) -> float:
    """The sample size a stratified estimate's interval may claim: the smaller of Kish's effective size for
    unequal weights, 1 / sum(W_h^2 / n_h) (at most sum(n_h); it ignores the observed shares, so a stratum
    with no misses is not taken as certain), and the variance-based p(1-p) / var(p) where var(p) > 0."""
    kish = 1 / sum(w * w / n for w, n in zip(weights, counts))
    p = sum(w * q for w, q in zip(weights, shares))
    var = sum(w * w * q * (1 - q) / n for w, q, n in zip(weights, shares, counts))
    return min(kish, p * (1 - p) / var) if var > 0 else kish


def combine(table: str, label: str, strata: list[StratumCount], disputed: int = 0) -> Figure:
    """One figure over strata of one measure, weighted by their rows (see the module docstring)."""
    reviewed = [s for s in strata if s.decided]
    rows = sum(s.rows for s in strata)
    base = dict(table=table, label=label, measure=strata[0].measure, decided=sum(s.decided for s in strata),
                hits=sum(s.hits for s in strata), cant_tell=sum(s.cant_tell for s in strata), rows=rows,
                rows_unreviewed=sum(s.rows for s in strata if not s.decided), weighted=len(reviewed) > 1,
                disputed=disputed)
    if not reviewed:
        return Figure(estimate=None, low=None, high=None, **base)
    total = sum(s.rows for s in reviewed)
    weights = [s.rows / total for s in reviewed]
    shares = [s.hits / s.decided for s in reviewed]
    p = sum(w * q for w, q in zip(weights, shares))
    n_eff = effective_n(weights, shares, [s.decided for s in reviewed])
    low, high = wilson(p * n_eff, n_eff)
    # Wilson's interval holds p; rounding in the weights must not put p a hair outside it
    return Figure(estimate=p, low=min(low, p), high=max(high, p), effective_n=n_eff, **base)


def is_current(verdict: dict, current: dict[str, SampleItem]) -> bool:
    """The verdict's item is still a current row with the value and model_id the reviewer saw."""
    now = current.get(verdict["item_id"])
    return now is not None and (now.value, now.model_id) == (verdict["value"], verdict["model_id"])


def settle(verdicts: list[dict], current: dict[str, SampleItem]) -> Settled:
    """One counted verdict per current item: the reviewers' common one, the adjudicated one of a settled
    dispute, or DISPUTED_COUNTS_AS for an open dispute. "can't tell" yields to a reviewer who could tell."""
    by_item: dict[str, dict[str, str]] = defaultdict(dict)
    adjudicated: dict[str, tuple[str, str]] = {}
    stale: Counter[str] = Counter()
    for v in verdicts:
        if not is_current(v, current):
            stale[v["table_name"]] += 1
        elif v.get("adjudication"):
            adjudicated[v["item_id"]] = (v["verdict"], v["reviewer"])
        else:
            by_item[v["item_id"]][v["reviewer"]] = v["verdict"]
    counted: dict[str, str] = {}
    disputes = []
    for item_id, given in by_item.items():
        sure = set(given.values()) - {"cant_tell"}
        if len(sure) > 1:
            item = current[item_id]
            verdict, who = adjudicated.get(item_id, (None, None))
            disputes.append(Dispute(item_id=item_id, table=item.table, task=item.task, label=item.label,
                                    status=item.status, report_id=item.report_id,
                                    value=item.value, model_id=item.model_id, verdicts=dict(sorted(given.items())),
                                    adjudicated=verdict, adjudicator=who))
            counted[item_id] = verdict or DISPUTED_COUNTS_AS
        else:
            counted[item_id] = sure.pop() if sure else "cant_tell"
    return Settled(counted=counted, stale=dict(stale), disputes=sorted(disputes, key=lambda d: (d.table, d.item_id)))


def agreements(verdicts: list[dict], current: dict[str, SampleItem]) -> list[Agreement]:
    """Cohen's kappa for each pair of reviewers over the current items both judged (adjudications aside)."""
    _, inter_rater = _stats()
    by_reviewer: dict[str, dict[str, str]] = defaultdict(dict)
    for v in verdicts:
        if is_current(v, current) and not v.get("adjudication"):
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


def stratum_key(item: SampleItem) -> tuple[str, str, str]:
    """The figures' strata within a table: label, status and the model that made the value."""
    return item.label, item.status, item.model_id


def compute(verdicts: list[dict], current: list[SampleItem], reviewer: str | None = None) -> Figures:
    """The figures of the tables that have verdicts, from the current review_verdicts rows and the
    current reviewable rows of those tables (``radlite.review.sample.candidates``). With ``reviewer``, only
    that reviewer's own verdicts (no adjudications)."""
    if reviewer is not None:
        verdicts = [v for v in verdicts if v["reviewer"] == reviewer and not v.get("adjudication")]
    by_id = {item.item_id: item for item in current}
    settled = settle(verdicts, by_id)
    open_ids = {d.item_id for d in settled.disputes if d.open}
    tables = sorted({v["table_name"] for v in verdicts})
    figures: list[Figure] = []
    coverage: list[Coverage] = []
    for table in tables:
        rows = [i for i in current if i.table == table and not i.withheld]  # figures of published values
        strata = {k: StratumCount(table=table, label=k[0], status=k[1], model_id=k[2], rows=n)
                  for k, n in sorted(Counter(stratum_key(i) for i in rows).items())}
        for item in rows:
            verdict = settled.counted.get(item.item_id)
            if verdict is not None:
                stratum = strata[stratum_key(item)]
                setattr(stratum, verdict, getattr(stratum, verdict) + 1)
        figures.extend(table_figures(table, list(strata.values()), [i for i in rows if i.item_id in open_ids]))
        own = [d for d in settled.disputes if d.table == table]
        coverage.append(Coverage(table=table, rows_by_model=dict(Counter(i.model_id for i in rows)),
                                 verdicts_by_model=dict(Counter(by_id[i].model_id for i, v in settled.counted.items()
                                                                if by_id[i].table == table and v != "cant_tell"
                                                                and not by_id[i].withheld)),
                                 stale=settled.stale.get(table, 0), disputed=sum(d.open for d in own),
                                 adjudicated=sum(not d.open for d in own)))
    return Figures(figures=figures, agreements=agreements(verdicts, by_id), coverage=coverage,
                   disputes=settled.disputes)


def table_figures(table: str, strata: list[StratumCount], disputed: list[SampleItem]) -> list[Figure]:
    """Per label and measure, then the whole table per measure; ``disputed``: its items in open disputes."""
    found = []
    for measure in (PRECISION, MISS_RATE):
        own = [s for s in strata if s.measure == measure]
        if not own:
            continue
        mine = [i for i in disputed if measure_of(i.status) == measure]
        for label in sorted({s.label for s in own}):
            found.append(combine(table, label, [s for s in own if s.label == label],
                                 sum(i.label == label for i in mine)))
        found.append(combine(table, ALL, own, len(mine)))
    return found


def from_store(store: OutputStore, reviewer: str | None = None) -> Figures:
    """The figures of OUT: its current verdicts against its current rows."""
    verdicts = store.read_table("review_verdicts").to_pylist()
    tables = sorted({v["table_name"] for v in verdicts})
    return compute(verdicts, candidates(store, tables), reviewer)
