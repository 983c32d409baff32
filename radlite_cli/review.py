"""`radlite review`: sample committed values into a review page, import verdicts, report figures, gate a table."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console
from rich.table import Table

from radlite.review.figures import Dispute, Figures, from_store
from radlite.review.gate import judge
from radlite.review.page import WordingRefused, load_wording, qa_questions, render_page
from radlite.review.render import HEADER, figure_row, write_report
from radlite.review.sample import (
    DEFAULT_STRATIFY,
    STRATA_DIMENSIONS,
    SampleRefused,
    build_manifest,
    report_texts,
    save_manifest,
    stored_manifest_path,
)
from radlite.review.verdicts import VERDICTS, Decision, VerdictsRefused, adjudicate, import_verdicts
from radlite.review.views import VIEWS
from radlite.store import OutputLocked, OutputStore, StoreDamaged

_REFUSED = (SampleRefused, VerdictsRefused, StoreDamaged, OutputLocked, RuntimeError)


class ReviewGroup(click.Group):
    """``radlite review OUT ...`` draws a sample (the ``sample`` command); ``import``, ``report`` and ``gate``
    are named."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["sample", *args]
        return super().parse_args(ctx, args)


def _open(out: str) -> OutputStore:
    store = OutputStore(out)
    if not os.path.exists(store.manifest_path):
        raise click.ClickException(f"{out} holds no radlite output (no manifest.json)")
    return store


def _print_figures(figures: Figures) -> None:
    console = Console()
    if not figures.coverage:
        console.print("no verdicts imported yet")
        return
    table = Table(*HEADER)
    for f in figures.figures:
        table.add_row(*figure_row(f))
    console.print(table)
    for cov in figures.coverage:
        if cov.stale or cov.disputed or cov.adjudicated or cov.unreviewed_models:
            console.print(f"{cov.table}: {cov.stale} stale verdicts, {cov.disputed} open disputes (counted as "
                          f"incorrect), {cov.adjudicated} adjudicated; rows by models no current verdict covers: "
                          f"{', '.join(cov.unreviewed_models) or 'none'}")
    _print_disputes(console, figures.open_disputes())
    for a in figures.agreements:
        kappa = "n/a" if a.kappa is None else f"{a.kappa:.3f}"
        console.print(f"agreement {a.reviewers[0]} / {a.reviewers[1]}: {a.items} items, "
                      f"observed {100 * a.observed:.1f}%, Cohen's kappa {kappa}")


def _print_disputes(console: Console, disputes: list[Dispute]) -> None:
    if not disputes:
        return
    table = Table("item", "table", "label", "value", "verdicts", title="open disputes (radlite review adjudicate)")
    for d in disputes:
        table.add_row(d.item_id, d.table, d.label, d.value, ", ".join(f"{r}: {v}" for r, v in d.verdicts.items()))
    console.print(table)


class DecisionParam(click.ParamType):
    """ITEM=VERDICT on the command line, typed as a Decision."""

    name = "ITEM=VERDICT"

    def convert(self, value, param, ctx):
        if isinstance(value, Decision):
            return value
        item, sep, verdict = value.partition("=")
        if not sep or not item.strip() or verdict.strip() not in VERDICTS:
            self.fail(f"{value!r}: give ITEM=VERDICT with VERDICT one of {', '.join(VERDICTS)}", param, ctx)
        return Decision(item.strip(), verdict.strip())


@click.group(cls=ReviewGroup)
def review() -> None:
    """Measure how far each table can be trusted on your own reports.

    \b
    radlite review OUT --sample 200 --out DIR          a stratified sample as DIR/review.html
    radlite review import OUT verdicts.csv [--reviewer NAME]   store the page's exported verdicts
    radlite review report OUT [--out DIR]              precision / miss rate with 95% intervals
    radlite review adjudicate OUT ITEM=VERDICT ... --reviewer NAME   settle reviewers' disputes
    radlite review gate OUT --table T --min-precision P  exit 5 below P, 6 when stale or disputed
    """


@review.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--sample", "size", type=int, required=True, help="Number of values to draw.")
@click.option("--table", "tables", multiple=True, type=click.Choice(list(VIEWS)),
              help="Table to sample (repeatable; default: every reviewable table with rows).")
@click.option("--stratify", default=",".join(DEFAULT_STRATIFY), show_default=True,
              help=f"Comma list of {', '.join(STRATA_DIMENSIONS)} (or 'none'): the size is shared equally between "
                   "these strata, so rare labels, negative/not_mentioned values and every model's rows are drawn "
                   "too.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the draw.")
@click.option("--out", "directory", required=True, type=click.Path(file_okay=False),
              help="Folder for review.html (the page) and sample.json (what was drawn).")
@click.option("--wording", type=click.Path(dir_okay=False, exists=True),
              help="The site's question, rubric and plain words per table for the page (YAML or JSON; "
                   "docs/review.md). Default: RadLite's.")
def sample(out, size, tables, stratify, seed, directory, wording):
    """Draw a sample of OUT's committed values into a self-contained review page."""
    store = _open(out)
    dims = [] if stratify.strip() == "none" else [d.strip() for d in stratify.split(",") if d.strip()]
    try:
        site_wording = load_wording(wording)
        manifest = build_manifest(store, size, list(tables), dims, seed)
        texts = report_texts(store, {i.report_id for i in manifest.items})
        questions = qa_questions(store, manifest)
    except (*_REFUSED, WordingRefused) as exc:
        raise click.ClickException(str(exc)) from None
    os.makedirs(directory, exist_ok=True)
    page = os.path.join(directory, "review.html")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(render_page(manifest, texts, site_wording, questions))
    save_manifest(manifest, os.path.join(directory, "sample.json"))
    save_manifest(manifest, stored_manifest_path(store, manifest.sample_id))
    drawn = ", ".join(f"{t}: {sum(1 for i in manifest.items if i.table == t)}" for t in manifest.tables)
    withheld = sum(i.withheld for i in manifest.items)
    first = f"; {withheld} withheld values drawn first" if withheld else ""
    click.echo(f"sample {manifest.sample_id}: {len(manifest.items)} values ({drawn}{first}) -> {page}")


@review.command("import")
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.argument("verdicts", type=click.Path(dir_okay=False, exists=True))
@click.option("--reviewer", help="Who gave the verdicts (default: the name the page wrote in the file; needed for "
              "files from pages made before it asked; refused when it differs from the file's).")
@click.option("--sample", "manifest_path", type=click.Path(dir_okay=False, exists=True),
              help="The sample's sample.json (default: the copy OUT kept when the sample was drawn).")
@click.option("--replace", is_flag=True, help="Supersede this reviewer's earlier verdicts on the same items.")
def import_(out, verdicts, reviewer, manifest_path, replace):
    """Check VERDICTS (the page's CSV or JSON export) against its sample and OUT and store them in the
    review_verdicts table; all or nothing. Then print the figures."""
    store = _open(out)
    try:
        result = import_verdicts(store, verdicts, reviewer, manifest_path, replace)
        figures = from_store(store)
    except _REFUSED as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"imported {result.verdicts} verdicts of {result.reviewer} on sample {result.sample_id} "
               f"(run {result.run_id})")
    _print_figures(figures)


@review.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--reviewer", help="Only this reviewer's verdicts (default: every reviewer's; an item they "
                                 "disagree on counts as incorrect until adjudicated).")
@click.option("--out", "directory", type=click.Path(file_okay=False),
              help="Write report.md, report.html and a plot per table here.")
def report(out, reviewer, directory):
    """Precision of claims and miss rate of negative/not_mentioned values, per table and label, with Wilson
    95% intervals, weighted to the whole table; Cohen's kappa between reviewers."""
    try:
        figures = from_store(_open(out), reviewer)
        written = write_report(figures, directory) if directory else []
    except _REFUSED as exc:
        raise click.ClickException(str(exc)) from None
    _print_figures(figures)
    for path in written:
        click.echo(f"wrote {path}")


@review.command("adjudicate")
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.argument("decisions", nargs=-1, type=DecisionParam(), metavar="[ITEM=VERDICT]...")
@click.option("--reviewer", help="Who settles the disputes (required with ITEM=VERDICT).")
def adjudicate_(out, decisions, reviewer):
    """Settle disputes: record the adjudicated VERDICT (correct, incorrect, cant_tell) of each disputed ITEM
    in review_verdicts; it counts instead of the reviewers' verdicts. Without ITEM=VERDICT, list the open
    disputes."""
    store = _open(out)
    try:
        if not decisions:
            figures = from_store(store)
            click.echo(f"{len(figures.open_disputes())} open disputes")
            _print_disputes(Console(), figures.open_disputes())
            return
        if not reviewer:
            raise click.UsageError("give --reviewer NAME: who settles the disputes")
        result = adjudicate(store, list(decisions), reviewer)
        left = from_store(store).open_disputes()
    except _REFUSED as exc:
        raise click.ClickException(str(exc)) from None
    for d in result.settled:
        click.echo(f"settled {d.item_id} ({d.table}/{d.label} {d.value!r}) as {d.adjudicated} by {d.adjudicator}")
    click.echo(f"{len(left)} open disputes left (run {result.run_id})")


@review.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--table", "table_name", required=True, type=click.Choice(list(VIEWS)), help="Table to judge.")
@click.option("--min-precision", type=click.FloatRange(0, 1), help="Refuse when precision's lower bound is below.")
@click.option("--max-miss-rate", type=click.FloatRange(0, 1), help="Refuse when the miss rate's upper bound is above.")
def gate(out, table_name, min_precision, max_miss_rate):
    """Exit 0 when TABLE may be published; 5 when its interval is below the bar; 6 when its rows were made
    by a model no current verdict covers (a model or rule change since the review, or no review), or while
    reviewers' disputes on it are open (radlite review adjudicate settles them)."""
    if min_precision is None and max_miss_rate is None:
        raise click.UsageError("give --min-precision and/or --max-miss-rate")
    try:
        result = judge(from_store(_open(out)), table_name, min_precision, max_miss_rate)
    except _REFUSED as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.message, err=bool(result.code))
    sys.exit(result.code)
