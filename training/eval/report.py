"""Aggregate predictions into eval.json, compare two evaluations, write markdown and PNG plots."""

from __future__ import annotations

import os

import numpy as np

from radlite.routing import RoutingTable
from radlite.tasks import TASKS
from training.eval.evidence_sets import evidence_of
from training.eval.predict import Prediction
from training.eval.records import EVIDENCE_ORDER, Evaluation, RadsAnalysis, SampleScore, TaskComparison, TaskEvaluation
from training.eval.stats import (
    bootstrap_ci,
    mcnemar_test,
    nli_confusion,
    rads_analysis,
    wilcoxon_test,
)
from training.eval.trivial import TASK, baseline_figure, trivial_answerers, trivial_predictions
from training.optional import require


def summarize(predictions: list[Prediction], routing: RoutingTable, split: str) -> Evaluation:
    """Per task the paper's metric, its bootstrap CI, validity and per-sample scores."""
    tasks: dict[str, TaskEvaluation] = {}
    for name, task in TASKS.items():
        preds = [p for p in predictions if p.task == name]
        if not preds:
            continue
        scores = [p.score for p in preds]
        raws, references = [p.raw for p in preds], [p.reference for p in preds]
        claims = sum(p.claims for p in preds)
        tasks[name] = TaskEvaluation(
            metric=task.metric_name, score=sum(scores) / len(scores), ci95=bootstrap_ci(scores), n=len(preds),
            validity=sum(p.valid for p in preds) / len(preds), model_id=preds[0].model_id,
            seconds_per_sample=sum(p.seconds for p in preds) / len(preds),
            samples=[SampleScore.of(id=p.id, score=p.score, valid=p.valid, raw=p.raw, claims=p.claims,
                                    grounded=p.grounded) for p in preds],
            grounded_share=sum(p.grounded for p in preds) / claims if claims else None,
            rads=rads_analysis(raws, references) if name == "rads_assignment" else None,
            confusion=nli_confusion(raws, references) if name == "radiology_nli" else None,
        )
    return Evaluation(routing=routing.name, split=split, n=len(predictions), tasks=tasks, models=dict(routing.models),
                      task_models=dict(routing.tasks))


def with_evidence(evaluation: Evaluation, records: list) -> Evaluation:
    """``evaluation`` with each task's evidence kind (real / written / synthetic: the least trustworthy
    among its records) and the trivial baseline scored on the same records."""
    tasks = {}
    for name, figures in evaluation.tasks.items():
        scored_ids = {s.id for s in figures.samples}
        mine = [r for r in records if r.task == name and r.id in scored_ids]
        kinds = {evidence_of(r) for r in mine}
        evidence = next(k for k in reversed(EVIDENCE_ORDER) if k in kinds) if kinds else None
        tasks[name] = figures.model_copy(update={"evidence": evidence,
                                                 "baseline": baseline_figure(mine, name) if mine else None})
    return evaluation.model_copy(update={"tasks": tasks})


def compare(baseline: Evaluation, candidate: Evaluation) -> dict[str, TaskComparison]:
    """Per task: both scores, the difference and the paired test (McNemar or Wilcoxon)."""
    result = {}
    for name, cand in candidate.tasks.items():
        base = baseline.tasks.get(name)
        if not base:
            continue
        by_id = {s.id: s for s in base.samples}
        pairs = [(by_id[s.id], s) for s in cand.samples if s.id in by_id]
        if TASKS[name].classification:
            test = mcnemar_test([b.score == 1.0 for b, _ in pairs], [c.score == 1.0 for _, c in pairs])
        else:
            test = wilcoxon_test([b.score for b, _ in pairs], [c.score for _, c in pairs])
        result[name] = TaskComparison(baseline=base.score, candidate=cand.score, delta=cand.score - base.score, **test)
    return result


def trivial_comparisons(records: list, train: list, evaluation: Evaluation, split: str) -> dict[str, TaskComparison]:
    """Impression generation of ``evaluation`` against each trivial baseline on the same records."""
    if TASK not in evaluation.tasks:
        return {}
    out = {}
    for name, answer in trivial_answerers(train).items():
        baseline = summarize(trivial_predictions(records, answer, name), RoutingTable(name=name, models={}, tasks={}),
                             split)
        out[name] = compare(baseline, evaluation)[TASK]
    return out


def markdown(evaluation: Evaluation, comparison: dict[str, TaskComparison] | None = None,
             baseline_name: str = "baseline") -> str:
    lines = [f"# Evaluation: {evaluation.routing} on {evaluation.split}", "",
             "| task | metric | score | 95% CI | validity | grounded | n |", "|---|---|---|---|---|---|---|"]
    for name, t in evaluation.tasks.items():
        grounded = "-" if t.grounded_share is None else f"{t.grounded_share:.3f}"
        lines.append(f"| {name} | {t.metric} | {t.score:.3f} | {t.ci95[0]:.3f}-{t.ci95[1]:.3f} | "
                     f"{t.validity:.3f} | {grounded} | {t.n} |")
    rads = evaluation.tasks["rads_assignment"].rads if "rads_assignment" in evaluation.tasks else None
    if rads:
        lines += ["", "RADS per system: " + ", ".join(f"{s} {a:.2f} (n={rads.per_system_n[s]})"
                                                      for s, a in rads.per_system_accuracy.items()),
                  "RADS errors: " + (", ".join(f"{k} {v}" for k, v in rads.errors.items()) or "none")]
    if evaluation.trivial:
        lines += ["", "## Impression generation against trivial baselines", "",
                  "| baseline | baseline ROUGE-L | this | delta | test | p |", "|---|---|---|---|---|---|"]
        for name, c in evaluation.trivial.items():
            lines.append(f"| {name} | {c.baseline:.3f} | {c.candidate:.3f} | {c.delta:+.3f} | {c.test} | "
                         f"{c.p_value:.3g} |")
    if comparison:
        lines += ["", f"## Against {baseline_name}", "", "| task | baseline | this | delta | test | p |",
                  "|---|---|---|---|---|---|"]
        for name, c in comparison.items():
            lines.append(f"| {name} | {c.baseline:.3f} | {c.candidate:.3f} | {c.delta:+.3f} | {c.test} | "
                         f"{c.p_value:.3g} |")
    return "\n".join(lines) + "\n"


def _rads_of(evaluation: Evaluation | None) -> RadsAnalysis | None:
    task = evaluation.tasks.get("rads_assignment") if evaluation else None
    return task.rads if task else None


def plots(evaluation: Evaluation, out_dir: str, baseline: Evaluation | None = None) -> list[str]:
    """Per-task bars (baseline vs this) and the RADS per-system accuracy heatmap, as PNG."""
    require("matplotlib").use("Agg")
    plt = require("matplotlib.pyplot")

    paths = []
    names = list(evaluation.tasks)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(10, 4))
    if baseline:
        ax.bar(x - 0.2, [baseline.tasks[n].score if n in baseline.tasks else 0 for n in names], 0.4,
               label=baseline.routing)
    ax.bar(x + (0.2 if baseline else 0), [evaluation.tasks[n].score for n in names], 0.4, label=evaluation.routing)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("paper metric")
    ax.legend()
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "tasks.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    rads = _rads_of(evaluation)
    if rads:
        runs = [(evaluation.routing, rads)] + ([(baseline.routing, _rads_of(baseline))] if _rads_of(baseline) else [])
        systems = sorted(rads.per_system_accuracy)
        grid = [[r.per_system_accuracy.get(s, np.nan) for s in systems] for _, r in runs]
        fig, ax = plt.subplots(figsize=(10, 1.2 + 0.6 * len(runs)))
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(systems)), systems, rotation=30, ha="right")
        ax.set_yticks(range(len(runs)), [name for name, _ in runs])
        fig.colorbar(image, ax=ax, label="accuracy")
        fig.tight_layout()
        paths.append(os.path.join(out_dir, "rads_per_system.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def write_evaluation(out_dir: str, evaluation: Evaluation, baseline: Evaluation | None = None) -> Evaluation:
    """eval.json (with the comparison; + baseline_eval.json), eval_report.md and the plots."""
    os.makedirs(out_dir, exist_ok=True)
    written = evaluation.model_copy(update={"comparison": compare(baseline, evaluation) if baseline else None})
    written.write(os.path.join(out_dir, "eval.json"))
    if baseline:
        baseline.write(os.path.join(out_dir, "baseline_eval.json"))
    with open(os.path.join(out_dir, "eval_report.md"), "w") as fh:
        fh.write(markdown(written, written.comparison, baseline.routing if baseline else "baseline"))
    plots(evaluation, out_dir, baseline)
    return written
