"""Aggregate predictions into eval.json, compare two evaluations, write markdown and PNG plots."""

from __future__ import annotations

import json
import os

from radlite.tasks import TASKS
from training.eval.predict import Prediction
from training.eval.stats import (
    bootstrap_ci,
    mcnemar_test,
    nli_confusion,
    rads_analysis,
    wilcoxon_test,
)

METRIC_NAMES = {
    "rads_assignment": "accuracy", "impression_generation": "rouge_l", "temporal_comparison": "jaccard",
    "radiology_ner": "rouge_l", "n_staging": "accuracy", "m_staging": "accuracy", "radiology_nli": "accuracy",
    "abnormality_detection": "per_label_accuracy", "radiology_qa": "rouge_l",
}


def summarize(predictions: list[Prediction], routing, split: str) -> dict:
    """eval.json: per task the paper's metric, its bootstrap CI, validity and per-sample scores."""
    tasks: dict[str, dict] = {}
    for name in TASKS:
        preds = [p for p in predictions if p.task == name]
        if not preds:
            continue
        scores = [p.score for p in preds]
        low, high = bootstrap_ci(scores)
        entry = {
            "metric": METRIC_NAMES[name], "score": sum(scores) / len(scores), "ci95": [low, high], "n": len(preds),
            "validity": sum(p.valid for p in preds) / len(preds), "model_id": preds[0].model_id,
            "seconds_per_sample": sum(p.seconds for p in preds) / len(preds),
            "samples": [{"id": p.id, "score": p.score, "valid": p.valid, "raw": p.raw} for p in preds],
        }
        if name == "rads_assignment":
            entry["rads"] = rads_analysis([p.raw for p in preds], [p.reference for p in preds])
        if name == "radiology_nli":
            entry["confusion"] = nli_confusion([p.raw for p in preds], [p.reference for p in preds])
        tasks[name] = entry
    return {"routing": routing.name, "split": split, "n": len(predictions), "tasks": tasks,
            "models": {k: json.loads(m.model_dump_json()) for k, m in routing.models.items()},
            "task_models": dict(routing.tasks)}


def compare(baseline: dict, candidate: dict) -> dict:
    """Per task: both scores, the difference and the paired test (McNemar or Wilcoxon)."""
    result = {}
    for name, cand in candidate["tasks"].items():
        base = baseline["tasks"].get(name)
        if not base:
            continue
        by_id = {s["id"]: s for s in base["samples"]}
        pairs = [(by_id[s["id"]], s) for s in cand["samples"] if s["id"] in by_id]
        if TASKS[name].classification:
            test = mcnemar_test([b["score"] == 1.0 for b, _ in pairs], [c["score"] == 1.0 for _, c in pairs])
        else:
            test = wilcoxon_test([b["score"] for b, _ in pairs], [c["score"] for _, c in pairs])
        result[name] = {"baseline": base["score"], "candidate": cand["score"], "delta": cand["score"] - base["score"],
                        **test}
    return result


def markdown(evaluation: dict, comparison: dict | None = None, baseline_name: str = "baseline") -> str:
    lines = [f"# Evaluation: {evaluation['routing']} on {evaluation['split']}", "",
             "| task | metric | score | 95% CI | validity | n |", "|---|---|---|---|---|---|"]
    for name, t in evaluation["tasks"].items():
        lines.append(f"| {name} | {t['metric']} | {t['score']:.3f} | {t['ci95'][0]:.3f}-{t['ci95'][1]:.3f} | "
                     f"{t['validity']:.3f} | {t['n']} |")
    rads = evaluation["tasks"].get("rads_assignment", {}).get("rads")
    if rads:
        lines += ["", "RADS per system: " + ", ".join(f"{s} {a:.2f} (n={rads['per_system_n'][s]})"
                                                      for s, a in rads["per_system_accuracy"].items()),
                  "RADS errors: " + (", ".join(f"{k} {v}" for k, v in rads["errors"].items()) or "none")]
    if comparison:
        lines += ["", f"## Against {baseline_name}", "", "| task | baseline | this | delta | test | p |",
                  "|---|---|---|---|---|---|"]
        for name, c in comparison.items():
            lines.append(f"| {name} | {c['baseline']:.3f} | {c['candidate']:.3f} | {c['delta']:+.3f} | {c['test']} | "
                         f"{c['p_value']:.3g} |")
    return "\n".join(lines) + "\n"


def plots(evaluation: dict, out_dir: str, baseline: dict | None = None) -> list[str]:
    """Per-task bars (baseline vs this) and the RADS per-system accuracy heatmap, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    paths = []
    names = list(evaluation["tasks"])
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(10, 4))
    if baseline:
        ax.bar(x - 0.2, [baseline["tasks"].get(n, {}).get("score", 0) for n in names], 0.4,
               label=baseline["routing"])
    ax.bar(x + (0.2 if baseline else 0), [evaluation["tasks"][n]["score"] for n in names], 0.4,
           label=evaluation["routing"])
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("paper metric")
    ax.legend()
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "tasks.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    rads = evaluation["tasks"].get("rads_assignment", {}).get("rads")
    if rads:
        runs = [evaluation] + ([baseline] if baseline and "rads_assignment" in baseline["tasks"] else [])
        systems = sorted(rads["per_system_accuracy"])
        grid = [[r["tasks"]["rads_assignment"]["rads"]["per_system_accuracy"].get(s, np.nan) for s in systems]
                for r in runs]
        fig, ax = plt.subplots(figsize=(10, 1.2 + 0.6 * len(runs)))
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(systems)), systems, rotation=30, ha="right")
        ax.set_yticks(range(len(runs)), [r["routing"] for r in runs])
        fig.colorbar(image, ax=ax, label="accuracy")
        fig.tight_layout()
        paths.append(os.path.join(out_dir, "rads_per_system.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def write_evaluation(out_dir: str, evaluation: dict, baseline: dict | None = None) -> dict:
    """eval.json (+ baseline_eval.json and the comparison), eval_report.md and the plots."""
    os.makedirs(out_dir, exist_ok=True)
    comparison = compare(baseline, evaluation) if baseline else None
    with open(os.path.join(out_dir, "eval.json"), "w") as fh:
        json.dump({**evaluation, "comparison": comparison}, fh, indent=1)
    if baseline:
        with open(os.path.join(out_dir, "baseline_eval.json"), "w") as fh:
            json.dump(baseline, fh, indent=1)
    with open(os.path.join(out_dir, "eval_report.md"), "w") as fh:
        fh.write(markdown(evaluation, comparison, baseline["routing"] if baseline else "baseline"))
    plots(evaluation, out_dir, baseline)
    return comparison or {}
