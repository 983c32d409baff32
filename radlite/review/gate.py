"""The gate of a nightly job: may a table be published, judged by its current verdicts?"""

from __future__ import annotations

from pydantic import BaseModel

from radlite.errors import ExitCode
from radlite.review.figures import MISS_RATE, PRECISION, Dispute, Figure, Figures


class GateResult(BaseModel):
    code: ExitCode
    message: str


#: Open disputes a gate message names before "and N more".
NAMED_DISPUTES = 5


def _interval(figure: Figure) -> str:
    return (f"{figure.measure.replace('_', ' ')} {figure.estimate:.3f} (95% CI {figure.low:.3f}-{figure.high:.3f}, "
            f"{figure.decided} verdicts, effective n {figure.effective_n:.1f})")


def _disputes(disputes: list[Dispute]) -> str:
    """The open disputes named: item id, label, value and each reviewer's verdict."""
    named = [f"{d.item_id} ({d.label} {d.value!r}: " + ", ".join(f"{r} {v}" for r, v in d.verdicts.items()) + ")"
             for d in disputes[:NAMED_DISPUTES]]
    more = f" and {len(disputes) - NAMED_DISPUTES} more" if len(disputes) > NAMED_DISPUTES else ""
    return "; ".join(named) + more


def judge(figures: Figures, table: str, min_precision: float | None, max_miss_rate: float | None) -> GateResult:
    """REVIEW_STALE when rows of the table were made by a model no current verdict covers (a model or rule
    change since the review, or no review at all), or while reviewers' disputes on it are open (not yet
    settled by ``radlite review adjudicate``); REVIEW_BELOW when the precision interval's lower bound is
    below ``min_precision`` or the miss-rate interval's upper bound above ``max_miss_rate``; else OK."""
    coverage = next((c for c in figures.coverage if c.table == table), None)
    if coverage is None:
        return GateResult(code=ExitCode.REVIEW_STALE, message=f"{table}: no verdicts imported; review a sample "
                          f"(radlite review OUT --table {table}) before publishing")
    unreviewed = coverage.unreviewed_models
    if unreviewed:
        rows = sum(coverage.rows_by_model[m] for m in unreviewed)
        reviewed = ", ".join(sorted(m for m in coverage.verdicts_by_model)) or "none current"
        return GateResult(code=ExitCode.REVIEW_STALE,
                          message=f"{table}: stale: {rows} of {sum(coverage.rows_by_model.values())} rows are made "
                                  f"by {', '.join(unreviewed)}, which no current verdict covers (verdicts on: "
                                  f"{reviewed}; {coverage.stale} stale); review a new sample")
    disputes = figures.open_disputes(table)
    if disputes:
        return GateResult(code=ExitCode.REVIEW_STALE,
                          message=f"{table}: {len(disputes)} open disputes between reviewers: {_disputes(disputes)}; "
                                  f"settle them with radlite review adjudicate OUT ITEM=VERDICT ... --reviewer NAME")
    lines = []
    code = ExitCode.OK
    for measure, bound in ((PRECISION, min_precision), (MISS_RATE, max_miss_rate)):
        if bound is None:
            continue
        figure = figures.table_figure(table, measure)
        if figure is None or figure.estimate is None:
            return GateResult(code=ExitCode.REVIEW_STALE,
                              message=f"{table}: no current correct/incorrect verdicts on its "
                                      f"{'claims' if measure == PRECISION else 'negative/not_mentioned values'}; "
                                      "review a sample that includes them")
        failed = figure.low < bound if measure == PRECISION else figure.high > bound
        limit = (f"lower bound {figure.low:.3f} {'<' if failed else '>='} {bound}" if measure == PRECISION
                 else f"upper bound {figure.high:.3f} {'>' if failed else '<='} {bound}")
        lines.append(f"{_interval(figure)}: {limit}")
        if failed:
            code = ExitCode.REVIEW_BELOW
    verdict = "refused" if code else "passes"
    return GateResult(code=code, message=f"{table} {verdict}: " + "; ".join(lines))
