"""Fit the calibration maps a routing ships (radlite.calibration) on real-text validation gold.

Each task table's values are answered along the routing's own answer path with no calibration (so each
row's ``confidence`` is its raw score, radlite.confidence), matched to gold, and turned into (raw score,
correct?) pairs; an isotonic regression (scikit-learn) fitted on them is the table's map:

- ``entities``: the NER gold (training/gold/iu-xray/ner.jsonl): right when a gold entity with the same
  label overlaps the row's span;
- ``abnormalities``: NegBio's hand labels of IU X-ray validation reports (never the 771-report test
  list), on the nine labels they cover: right when positive-or-not agrees with the gold;
- ``temporal_changes``: the temporal gold: right when a gold statement with the same change overlaps the
  row's evidence;
- ``nli``: the NLI gold pairs: right when the label is the gold label;
- ``qa_answers``: the QA gold: a quoted answer is right when it overlaps the gold answer span (token F1 >=
  0.5) or, for a yes/no question, the deciding words; "not stated" is right when the gold says so;
- ``rads``: the hand-written RADS reports (tests/fixtures/rads_computed, WRITTEN, not real text): the
  report-level category is right when it is the expected one;
- ``staging``: the hand-written oncology reports (tests/fixtures/oncology/n_category_reports.yaml,
  WRITTEN; the held-out file is never used): an N stage is right when it is the expected one.

Figures: the expected calibration error (ECE, 10 equal-width bins) of the raw scores, of the map on the
pairs it was fitted on, and of maps fitted on 4/5 and applied to the other 1/5 (5-fold, out of fold: the
honest one). ``min_confidence`` per table is the highest step of its map below which the values,
calibrated out of fold, are right less often than ``MIN_CONFIDENCE`` (0.5): what it withholds for review
is a band the validation gold says is more often wrong than right (``min_confidence``).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import yaml

from radlite.calibration import Calibration, CalibrationMap
from radlite.kinds import get_kind
from radlite.kinds.cascade import RoutedReport, answer_pending, route
from radlite.report import Report, build_report
from radlite.routing import RoutingTable
from radlite.tasks import TASKS, TaskInstance
from radlite.tasks.qa import NOT_STATED, Question
from training.data.records import InstructionRecord, Tier, record_instance
from training.data.sources.openi import MAPPED_LABELS
from training.eval.gold import NerGold, NliGold, QaGold, SpanAnswer, TemporalGold, load_gold, token_f1
from training.eval.negbio import gold_labels, is_positive, split_reports
from training.optional import require

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLD = os.path.join(ROOT, "training", "gold", "iu-xray")
WRITTEN = os.path.join(ROOT, "tests", "fixtures")
#: A value the validation gold says is right less often than this is withheld for review.
MIN_CONFIDENCE = 0.5
BINS, FOLDS, SEED = 10, 5, 33
#: Reports answered together (a model decodes a batch's prompts at once).
BATCH = 8


@dataclass(frozen=True)
class Item:
    """One report and the instances asked of it, with the check that says whether a row is right."""

    report: Report
    instances: list[TaskInstance]
    #: (table, row) -> right (True/False), or None: the row is not scored (no value, another table)
    check: Callable[[str, dict], bool | None]


def answered(routing: RoutingTable, items: list[Item]) -> Iterator[tuple[Item, list[tuple[str, dict]]]]:
    """Each item's rows, answered along ``routing`` (its calibration removed: raw scores), in batches."""
    raw = routing.model_copy(update={"manifest": routing.manifest.model_copy(
        update={"calibration": None, "min_confidence": {}})})
    loaded: dict[str, object] = {}

    def answerer(key: str):
        if key not in loaded:
            loaded[key] = get_kind(raw.models[key].kind).load(raw.models[key])
        return loaded[key]

    for start in range(0, len(items), BATCH):
        batch = items[start:start + BATCH]
        works = []
        for item in batch:
            work = RoutedReport(item.report)
            route(raw, work, item.instances)
            works.append(work)
        answer_pending(raw, works, answerer, "calibrate", None)
        yield from zip(batch, (w.rows for w in works), strict=True)


def pairs(routing: RoutingTable, items: list[Item]) -> dict[str, list[tuple[float, bool]]]:
    """table -> (raw score, right?) of every scored, valid row with a raw score."""
    out: dict[str, list[tuple[float, bool]]] = {}
    for item, rows in answered(routing, items):
        for table, row in rows:
            right = item.check(table, row) if row["valid"] and row.get("confidence") is not None else None
            if right is not None:
                out.setdefault(table, []).append((row["confidence"], right))
    return out


def _overlaps(a: tuple[int | None, int | None], b: tuple[int, int]) -> bool:
    return a[0] is not None and a[1] is not None and a[0] < b[1] and b[0] < a[1]


def entity_items(csv_path: str) -> list[Item]:
    items = []
    for line, text in load_gold("ner", os.path.join(GOLD, "ner.jsonl"), csv_path):
        assert isinstance(line, NerGold)
        gold = [((e.start, e.end), e.label) for e in line.entities]

        def check(table, row, gold=gold):
            if table != "entities" or not row.get("label"):
                return None
            return any(label == row["label"] and _overlaps((row["start"], row["end"]), span) for span, label in gold)
        report = build_report("iu-xray", line.uid, text)
        items.append(Item(report, TASKS["radiology_ner"].instances(report), check))
    return items


def temporal_items(csv_path: str) -> list[Item]:
    items = []
    for line, text in load_gold("temporal", os.path.join(GOLD, "temporal.jsonl"), csv_path):
        assert isinstance(line, TemporalGold)
        gold = [(st.change, (st.finding_start, st.finding_end), (st.cue_start, st.cue_end)) for st in line.statements]

        def check(table, row, gold=gold):
            if table != "temporal_changes" or not row.get("change"):
                return None
            where = (row["evidence_start"], row["evidence_end"])
            return any(change == row["change"] and (_overlaps(where, f) or _overlaps(where, c))
                       for change, f, c in gold)
        report = build_report("iu-xray", line.uid, text)
        items.append(Item(report, TASKS["temporal_comparison"].instances(report), check))
    return items


def nli_items(csv_path: str) -> list[Item]:
    items = []
    for line, text in load_gold("nli", os.path.join(GOLD, "nli.jsonl"), csv_path):
        assert isinstance(line, NliGold)
        hypothesis = getattr(line.hypothesis, "text", None) or text[line.hypothesis.start:line.hypothesis.end]
        record = InstructionRecord(id=line.key(), task="radiology_nli", input="", output=line.label, source="iu-xray",
                                   tier=Tier.GOLD, split="validation",
                                   context={"premise": text[line.premise_start:line.premise_end],
                                            "hypothesis": hypothesis})
        report, instance = record_instance(record)
        items.append(Item(report, [instance], lambda table, row, gold=line.label:
                          row.get("label") == gold if table == "nli" and row.get("label") else None))
    return items


def qa_right(line: QaGold, text: str, row: dict) -> bool | None:
    """Whether a quoted answer answers the gold question (None: no answer to score)."""
    answer = row.get("answer")
    if not answer:
        return None
    if line.answer.type == "not_stated":
        return answer == NOT_STATED
    if answer == NOT_STATED:
        return False
    if isinstance(line.answer, SpanAnswer):
        return token_f1(answer, text[line.answer.start:line.answer.end]) >= 0.5
    return _overlaps((row["evidence_start"], row["evidence_end"]), (line.evidence_start, line.evidence_end))


def qa_items(csv_path: str) -> list[Item]:
    by_report: dict[str, tuple[str, list[QaGold]]] = {}
    for line, text in load_gold("qa", os.path.join(GOLD, "qa.jsonl"), csv_path):
        assert isinstance(line, QaGold)
        by_report.setdefault(line.uid, (text, []))[1].append(line)
    items = []
    for uid, (text, lines) in by_report.items():
        report = build_report("iu-xray", uid, text)
        questions = tuple(Question(id=q.question_id, question=q.question) for q in lines)
        gold = {q.question_id: q for q in lines}

        def check(table, row, gold=gold, text=text):
            line = gold.get(row.get("question_id"))
            return qa_right(line, text, row) if table == "qa_answers" and line else None
        items.append(Item(report, TASKS["radiology_qa"].instances(report, questions), check))
    return items


def abnormality_items(data_dir: str, limit: int) -> list[Item]:
    """``limit`` validation-split reports (drawn with SEED) with NegBio's labels; never the test list."""
    gold = gold_labels(data_dir)
    reports = [(key, report) for key, report, _ in split_reports(data_dir, "validation") if key in gold]
    random.Random(SEED).shuffle(reports)
    items = []
    for key, report in reports[:limit]:
        def check(table, row, truth=gold[key]):
            if table != "abnormalities" or row.get("finding") not in MAPPED_LABELS:
                return None
            return is_positive(row["finding"], row["status"]) == (row["finding"] in truth)
        items.append(Item(report, TASKS["abnormality_detection"].instances(report), check))
    return items


def rads_items() -> list[Item]:
    """The hand-written RADS reports (WRITTEN): the report-level label against the expected one."""
    items = []
    for name in ("reports.jsonl", "stated.jsonl"):
        with open(os.path.join(WRITTEN, "rads_computed", name), encoding="utf-8") as fh:
            for case in map(json.loads, fh):
                report = build_report("written", case["id"], case["text"])
                items.append(Item(report, TASKS["rads_assignment"].instances(report),
                                  lambda table, row, expected=case["expected"]:
                                  row.get("label") == expected if table == "rads" and row.get("scope") == "report"
                                  and row.get("category") else None))
    return items


def staging_items() -> list[Item]:
    """The hand-written oncology reports (WRITTEN; not the held-out file): each N stage against the expected."""
    with open(os.path.join(WRITTEN, "oncology", "n_category_reports.yaml"), encoding="utf-8") as fh:
        cases = yaml.safe_load(fh)
    items = []
    for case in cases:
        report = build_report("written", case["id"], case["text"])
        items.append(Item(report, TASKS["n_staging"].instances(report),
                          lambda table, row, expected=case["n"]:
                          row.get("n_stage") == expected if table == "staging" and row.get("n_stage") else None))
    return items


def ece(scores: np.ndarray, right: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: per equal-width score bin, |share right - mean score|, weighted by size."""
    edges = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - scores[inside].mean())
    return float(total / len(scores))


def fit_map(raw: np.ndarray, right: np.ndarray):
    """The isotonic regression of right (0/1) on the raw score (scikit-learn, the eval extra)."""
    isotonic = require("sklearn.isotonic").IsotonicRegression
    return isotonic(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, right.astype(float))


def out_of_fold(raw: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Each pair's confidence from a map fitted without its fold (FOLDS folds, shuffled with SEED)."""
    calibrated = np.empty(len(raw))
    folds = require("sklearn.model_selection").KFold(min(FOLDS, len(raw)), shuffle=True, random_state=SEED)
    for fit, held in folds.split(raw):
        calibrated[held] = fit_map(raw[fit], right[fit]).predict(raw[held])
    return calibrated


@dataclass(frozen=True)
class TableFit:
    """One table's map (with its figures) and the pairs it was fitted on."""

    table: str
    map: CalibrationMap
    raw: np.ndarray
    right: np.ndarray
    #: each pair's confidence from a map fitted without its fold
    calibrated: np.ndarray


def fit_table(table: str, scored: list[tuple[float, bool]], basis: str) -> TableFit:
    raw = np.array([s for s, _ in scored], dtype=float)
    right = np.array([r for _, r in scored], dtype=bool)
    iso = fit_map(raw, right)
    steps = [float(v) for v in iso.y_thresholds_]
    held = out_of_fold(raw, right)
    minimum = min_confidence(held, right, steps)
    kept = held >= minimum
    fitted = CalibrationMap(x=[float(v) for v in iso.X_thresholds_], y=steps, n=len(raw), basis=basis,
                            ece_raw=round(ece(raw, right), 4),
                            ece=round(ece(np.interp(raw, iso.X_thresholds_, iso.y_thresholds_), right), 4),
                            ece_out_of_fold=round(ece(held, right), 4), right=round(float(right.mean()), 4),
                            min_confidence=minimum, withheld_share=round(float(1 - kept.mean()), 4),
                            kept_right=round(float(right[kept].mean()), 4) if kept.any() else None)
    return TableFit(table, fitted, raw, right, held)


def min_confidence(calibrated: np.ndarray, right: np.ndarray, steps: list[float]) -> float:
    """The highest of the map's steps (or 0: withhold nothing) below which the values, calibrated out of fold,
    are right less often than MIN_CONFIDENCE: every value it withholds lies in a band the validation gold
    says is more often wrong than right."""
    best = 0.0
    for step in sorted(set(steps)):
        below = calibrated < step
        if below.any() and right[below].mean() < MIN_CONFIDENCE:
            best = step
    return round(best, 4)


#: table -> (what its gold is, how its items are built from the data folder and the report limit)
SOURCES: dict[str, tuple[str, Callable[[str, str, int], list[Item]]]] = {
    "entities": ("real: training/gold/iu-xray/ner.jsonl (validation)", lambda d, c, n: entity_items(c)),
    "abnormalities": ("real: NegBio's labels of IU X-ray validation reports", lambda d, c, n: abnormality_items(d, n)),
    "temporal_changes": ("real: training/gold/iu-xray/temporal.jsonl (validation)",
                         lambda d, c, n: temporal_items(c)),
    "nli": ("real: training/gold/iu-xray/nli.jsonl (validation)", lambda d, c, n: nli_items(c)),
    "qa_answers": ("real: training/gold/iu-xray/qa.jsonl (validation)", lambda d, c, n: qa_items(c)),
    "rads": ("written: tests/fixtures/rads_computed (hand-written, not real text)", lambda d, c, n: rads_items()),
    "staging": ("written: tests/fixtures/oncology/n_category_reports.yaml (hand-written, not real text)",
                lambda d, c, n: staging_items()),
}


def calibrate(routing: RoutingTable, data_dir: str, tables: tuple[str, ...], abnormality_reports: int,
              limit: int | None = None, progress: Callable[[str], None] = lambda _: None) -> list[TableFit]:
    """Every named table's fit on its gold (``limit``: its first gold items only). A table the routing does
    not answer, or with too few scored values, is skipped."""
    csv_path = os.path.join(data_dir, "iu-xray", "indiana_reports.csv")
    routed = {TASKS[t].table for t in routing.tasks}
    fits = []
    for table in tables:
        if table not in routed:
            progress(f"{table}: not answered by routing {routing.name}, skipped")
            continue
        basis, build = SOURCES[table]
        items = build(data_dir, csv_path, abnormality_reports)[:limit]
        scored = pairs(routing, items).get(table, [])
        if len(scored) < 2 * FOLDS:
            progress(f"{table}: {len(scored)} scored values, too few to fit, skipped")
            continue
        fits.append(fit_table(table, scored, f"{basis}, {len(items)} items"))
        progress(f"{table}: {len(scored)} values from {len(items)} items fitted")
    return fits


def merged(previous: Calibration, fits: list[TableFit], fitted_by: str) -> Calibration:
    """``previous`` with the fitted tables' maps replaced (a refit of some tables keeps the others)."""
    tables = {**previous.tables, **{f.table: f.map for f in fits}}
    return Calibration(fitted_by=fitted_by, tables=dict(sorted(tables.items())))


def write_plot(fit: TableFit, path: str) -> None:
    """Reliability diagram of one table: share right against mean confidence per bin, raw and out of fold."""
    require("matplotlib").use("Agg")
    plt = require("matplotlib.pyplot")
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    for scores, name in ((fit.raw, f"raw score (ECE {fit.map.ece_raw:.3f})"),
                         (fit.calibrated, f"calibrated, out of fold (ECE {fit.map.ece_out_of_fold:.3f})")):
        xs, ys, sizes = reliability(scores, fit.right)
        ax.plot(xs, ys, marker="o", label=name)
        ax.scatter(xs, ys, s=[min(200, 8 + n) for n in sizes], alpha=0.25)
    ax.set_title(f"{fit.table} (n={fit.map.n})", fontsize=9)
    ax.set_xlabel("confidence")
    ax.set_ylabel("share right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def reliability(scores: np.ndarray, right: np.ndarray, bins: int = BINS) -> tuple[list, list, list]:
    """Per non-empty equal-width bin: mean score, share right, size."""
    edges = np.minimum((scores * bins).astype(int), bins - 1)
    xs, ys, sizes = [], [], []
    for b in range(bins):
        inside = edges == b
        if inside.any():
            xs.append(float(scores[inside].mean()))
            ys.append(float(right[inside].mean()))
            sizes.append(int(inside.sum()))
    return xs, ys, sizes


def report_lines(calibration: Calibration) -> list[str]:
    """The markdown table of every map's figures (docs/quality/calibration-figures.md)."""
    lines = [f"Fitted by `{calibration.fitted_by}` (the last command; each map names its own gold).", "",
             "| table | gold | n | right | ECE raw | ECE fitted (in sample) | ECE out of fold | min_confidence | "
             "withheld (oof) | right among kept (oof) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for table, m in calibration.tables.items():
        kept = "-" if m.kept_right is None else f"{m.kept_right:.3f}"
        lines.append(f"| {table} | {m.basis} | {m.n} | {m.right:.3f} | {m.ece_raw:.3f} | {m.ece:.3f} | "
                     f"{m.ece_out_of_fold:.3f} | {m.min_confidence:.3f} | {100 * m.withheld_share:.1f}% | {kept} |")
    return lines
