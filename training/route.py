"""`radlite train route`: pick the best model per task from validation-split evaluations."""

from __future__ import annotations

import os
import shutil

from radlite.routing import (
    EMBEDDED_SCHEME,
    Manifest,
    ModelEntry,
    RoutingTable,
    TaskFigures,
    embedded_model_path,
    write_routing,
)
from training.eval.records import Evaluation


def _size(entries: list[ModelEntry]) -> int:
    """Bytes of model files a route loads (rules: none)."""
    return sum(os.path.getsize(path) for e in entries for path, _ in e.files())


#: A candidate whose answers' values the report text states less often than this is passed over
#: when another candidate for the task reaches it: a right label on an invented finding is not evidence.
#: A value whose own evidence contradicts it (supported = false) counts as not grounded
#: (training/eval/predict.py, evidence_counts).
MIN_GROUNDED = 0.9


def _well_grounded(task: str, indices: list[int], evaluations: list[Evaluation], floor: float) -> list[int]:
    """The candidates left once those below ``floor`` grounded share are set aside, if any reaches it
    (candidates that claim no values are kept); all of them when none does."""
    shares = {i: evaluations[i].tasks[task].grounded_share for i in indices}
    if not any(share is not None and share >= floor for share in shares.values()):
        return indices
    return [i for i in indices if shares[i] is None or shares[i] >= floor]


def choose_routes(evaluations: list[Evaluation], min_grounded: float = MIN_GROUNDED) -> dict[str, int]:
    """task -> index of the winning evaluation: the best score among the well-grounded candidates;
    ties go to the smaller model (file sizes on disk)."""
    candidates: dict[str, list[int]] = {}
    for i, evaluation in enumerate(evaluations):
        for task in evaluation.tasks:
            candidates.setdefault(task, []).append(i)
    best: dict[str, int] = {}
    for task, indices in candidates.items():
        for i in _well_grounded(task, indices, evaluations, min_grounded):
            if task not in best:
                best[task] = i
                continue
            score, current = evaluations[i].tasks[task].score, evaluations[best[task]]
            if score > current.tasks[task].score or (
                    score == current.tasks[task].score
                    and _size(evaluations[i].route(task)) < _size(current.route(task))):
                best[task] = i
    return best


def relative_to(path: str, directory: str) -> str:
    """How the table refers to a file: the embedded model by its scheme, others relative to the table."""
    if os.path.abspath(path) == os.path.abspath(embedded_model_path()):
        return EMBEDDED_SCHEME + "smollm2"
    return os.path.relpath(path, directory)


def build_routing(eval_paths: list[str], out_path: str, name: str, smoke_set: str | None = None,
                  min_grounded: float = MIN_GROUNDED) -> RoutingTable:
    """Write the routing table (with manifest: sha256s, figures, minimum scores) to ``out_path``."""
    evaluations = [Evaluation.load(p) for p in eval_paths]
    routes = choose_routes(evaluations, min_grounded)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    models: dict[str, ModelEntry] = {}
    tasks: dict[str, str | list[str]] = {}
    figures: dict[str, TaskFigures] = {}
    min_scores: dict[str, float] = {}
    for task, i in sorted(routes.items()):
        evaluation = evaluations[i]
        fig = evaluation.tasks[task]
        keys = []
        for source_key, entry in zip(evaluation.route_keys(task), evaluation.route(task), strict=True):
            key = f"{evaluation.routing}.{source_key}" if entry.traits.loads_files else entry.kind
            pinned = entry.pinned().with_paths(lambda path: relative_to(path, out_dir))
            # one key per distinct model: candidates that are the same base + adapters share it, so
            # a report's tasks on it are decoded together and its prefix is evaluated once
            key = next((k for k, e in models.items() if e == pinned), key)
            models.setdefault(key, pinned)
            keys.append(key)
        tasks[task] = keys[0] if len(keys) == 1 else keys
        figures[task] = TaskFigures(model="+".join(keys), metric=fig.metric, score=fig.score, ci95=fig.ci95,
                                    validity=fig.validity, n=fig.n, grounded_share=fig.grounded_share)
        # The bootstrap lower bound: a smoke run below it is unlikely to be the same model.
        min_scores[task] = max(0.0, float(int(fig.ci95[0] * 1000)) / 1000 - 0.05)
    manifest = Manifest(min_scores=min_scores, figures=figures, built_from=[os.path.basename(p) for p in eval_paths])
    if smoke_set:
        manifest.smoke_set = f"{name}-smoke.jsonl"
        shutil.copyfile(smoke_set, os.path.join(out_dir, manifest.smoke_set))
    table = RoutingTable(name=name, description=f"built by radlite train route from {len(eval_paths)} evaluation(s)",
                         models=models, tasks=tasks, manifest=manifest)
    write_routing(table, out_path)
    return table
