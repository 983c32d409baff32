"""The figures as text: a Markdown and a self-contained HTML report with one plot per table.

matplotlib (the ``eval`` extra) is imported in ``plot_table`` only.
"""

from __future__ import annotations

import base64
import html
import io
import os

from radlite.review.figures import ALL, PRECISION, Dispute, Figure, Figures


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def figure_row(f: Figure) -> list[str]:
    """One figure as table cells: table, label, measure, estimate, 95% CI, verdicts, rows."""
    ci = "n/a" if f.low is None else f"{_pct(f.low)} - {_pct(f.high)}"
    if f.weighted and f.effective_n is not None:
        ci += f" (n_eff {f.effective_n:.1f})"
    counted = "correct" if f.measure == PRECISION else "incorrect"
    weighted = " (weighted)" if f.weighted else ""
    return [f.table, f.label, f.measure.replace("_", " "), _pct(f.estimate) + weighted, ci,
            f"{f.hits} {counted} / {f.decided}" + (f", {f.cant_tell} can't tell" if f.cant_tell else ""),
            f"{f.rows}" + (f" ({f.rows_unreviewed} unreviewed)" if f.rows_unreviewed else "")]


HEADER = ["table", "label", "measure", "estimate", "95% CI (Wilson)", "verdicts", "rows"]
DISPUTE_HEADER = ["item", "table", "label", "value", "verdicts", "settled"]


def dispute_row(d: Dispute) -> list[str]:
    """One dispute as table cells: what was judged, each reviewer's verdict, and its adjudication if any."""
    verdicts = ", ".join(f"{who}: {verdict}" for who, verdict in sorted(d.verdicts.items()))
    settled = f"{d.adjudicated} ({d.adjudicator})" if d.adjudicated else "open: counts as incorrect"
    return [d.item_id, d.table, d.label, d.value, verdicts, settled]


def dispute_lines(figures: Figures) -> list[str]:
    """The Markdown section listing every dispute, open ones first."""
    if not figures.disputes:
        return []
    ordered = sorted(figures.disputes, key=lambda d: (not d.open, d.table, d.item_id))
    return ["## Disputes", "", f"{len(figures.open_disputes())} open (the gate refuses until `radlite review "
            "adjudicate` settles them), {len(figures.disputes) - len(figures.open_disputes())} settled.", "",
            "| " + " | ".join(DISPUTE_HEADER) + " |", "|" + "---|" * len(DISPUTE_HEADER),
            *("| " + " | ".join(dispute_row(d)) + " |" for d in ordered), ""]


def markdown(figures: Figures, plots: dict[str, str]) -> str:
    """The report as Markdown; ``plots`` maps a table to its plot's file name."""
    out = ["# Review figures", "",
           "Precision: correct / (correct + incorrect) over positive, uncertain and assigned values. Miss rate: "
           "incorrect / (correct + incorrect) over negative, not_mentioned and none values. "
           "Strata are weighted by their share of the table's current rows.", ""]
    for cov in figures.coverage:
        out += [f"## {cov.table}", ""]
        models = ", ".join(f"`{m}` ({n} rows, {cov.verdicts_by_model.get(m, 0)} current verdicts)"
                           for m, n in sorted(cov.rows_by_model.items()))
        out += [f"Made by {models}. Stale verdicts: {cov.stale}; disputed items: {cov.disputed}.", ""]
        out += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(figure_row(f)) + " |" for f in figures.figures if f.table == cov.table]
        if cov.table in plots:
            out += ["", f"![{cov.table}]({plots[cov.table]})"]
        out.append("")
    out += dispute_lines(figures)
    if figures.agreements:
        out += ["## Agreement between reviewers", "", "| reviewers | items | observed agreement | Cohen's kappa |",
                "|---|---|---|---|"]
        out += [f"| {a.reviewers[0]} / {a.reviewers[1]} | {a.items} | {_pct(a.observed)} | "
                f"{'n/a' if a.kappa is None else f'{a.kappa:.3f}'} |" for a in figures.agreements]
    return "\n".join(out) + "\n"


def html_page(markdown_text: str, figures: Figures, plot_png: dict[str, bytes]) -> str:
    """A self-contained HTML report: the same tables, the plots inlined."""
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Review figures</title><style>"
             "body{font:15px/1.4 system-ui,sans-serif;margin:24px;color:#1d2433}table{border-collapse:collapse;"
             "margin:8px 0}td,th{border:1px solid #d7dce5;padding:3px 8px;text-align:left}</style></head><body>",
             "<h1>Review figures</h1>"]
    for cov in figures.coverage:
        parts.append(f"<h2>{html.escape(cov.table)}</h2><table><tr>"
                     + "".join(f"<th>{html.escape(h)}</th>" for h in HEADER) + "</tr>")
        for f in figures.figures:
            if f.table == cov.table:
                parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in figure_row(f)) + "</tr>")
        parts.append("</table>")
        if cov.table in plot_png:
            data = base64.b64encode(plot_png[cov.table]).decode()
            parts.append(f"<img alt='{html.escape(cov.table)}' src='data:image/png;base64,{data}'>")
    if figures.disputes:
        parts.append(f"<h2>Disputes</h2><p>{len(figures.open_disputes())} open</p><table><tr>"
                     + "".join(f"<th>{html.escape(h)}</th>" for h in DISPUTE_HEADER) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in dispute_row(d)) + "</tr>"
                  for d in sorted(figures.disputes, key=lambda d: (not d.open, d.table, d.item_id))]
        parts.append("</table>")
    for a in figures.agreements:
        kappa = "n/a" if a.kappa is None else f"{a.kappa:.3f}"
        parts.append(f"<p>Agreement {html.escape(a.reviewers[0])} / {html.escape(a.reviewers[1])}: {a.items} "
                     f"items, observed {_pct(a.observed)}, Cohen's kappa {kappa}</p>")
    parts.append("<h2>As Markdown</h2><pre>" + html.escape(markdown_text) + "</pre></body></html>")
    return "\n".join(parts)


def plot_table(figures: Figures, table: str) -> bytes | None:
    """PNG: per label, precision and miss rate with their 95% intervals (reviewed labels only)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shown = [f for f in figures.figures if f.table == table and f.estimate is not None]
    if not shown:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(shown) + 1.2))
    for y, f in enumerate(shown):
        colour = "#1b7f3b" if f.measure == PRECISION else "#b42318"
        ax.errorbar(f.estimate, y, xerr=[[f.estimate - f.low], [f.high - f.estimate]], fmt="o", color=colour,
                    capsize=3, markersize=4 if f.label != ALL else 7)
    ax.set_yticks(range(len(shown)), [f"{f.label} · {f.measure.replace('_', ' ')}" for f in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("estimate with Wilson 95% interval (green: precision, red: miss rate)")
    ax.set_title(table)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def write_report(figures: Figures, directory: str) -> list[str]:
    """report.md, report.html and <table>.png under ``directory``; returns the paths written."""
    os.makedirs(directory, exist_ok=True)
    pngs = {c.table: png for c in figures.coverage if (png := plot_table(figures, c.table)) is not None}
    written = []
    for table, png in pngs.items():
        path = os.path.join(directory, f"{table}.png")
        with open(path, "wb") as fh:
            fh.write(png)
        written.append(path)
    text = markdown(figures, {t: f"{t}.png" for t in pngs})
    for name, content in (("report.md", text), ("report.html", html_page(text, figures, pngs))):
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(content)
        written.append(path)
    return written
