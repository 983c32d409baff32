"""`radlite train route`: pick the best model per task from validation-split evaluations."""

from __future__ import annotations

import math
import os
import shutil
from typing import NamedTuple

from radlite.routing import (
    ModelEntry,
    RoutingManifest,
    RoutingTable,
    TaskFigures,
    portable_path,
    write_routing,
)
from training.eval.records import EVIDENCE_ORDER, BaselineFigure, Evaluation, TaskEvaluation


def _size(entries: list[ModelEntry]) -> int:
    """Bytes of model files a route loads (rules: none)."""
    return sum(os.path.getsize(path) for e in entries for path, _ in e.files())


#: Policy, not a statistic: without a baseline evaluated on the smoke set, a task's smoke minimum is
#: its routed figure less this. (A bound computed from the smoke scores themselves would test the
#: routing against itself.)
MIN_SCORE_MARGIN = 0.10


class RouteRefused(ValueError):
    """An evaluation that must not choose routes: its records come from the fixed test list, or it
    does not say whether they do."""


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


class RouteChoice(NamedTuple):
    """One task's decision: the winning evaluation (None: no candidate earned it), the evidence the
    decision rests on, the rules' and the trivial baseline's figures on it, and why."""

    index: int | None
    evidence: str
    rules_score: float | None
    baseline: BaselineFigure | None
    reason: str
    #: the best candidate, for an unrouted task's manifest entry
    best: int


def evidence_rank(figures: TaskEvaluation) -> int:
    """Position of a figure's evidence in EVIDENCE_ORDER (real first); an unrecorded one ranks last."""
    return EVIDENCE_ORDER.index(figures.evidence) if figures.evidence else len(EVIDENCE_ORDER)


def is_rules(evaluation: Evaluation, task: str) -> bool:
    """The evaluated route of ``task`` loads no model file: it is the rules alone."""
    return not any(entry.traits.loads_files for entry in evaluation.route(task))


def _best(indices: list[int], task: str, evaluations: list[Evaluation]) -> int:
    """Highest score; ties go to the smaller model (file sizes on disk)."""
    top = max(evaluations[i].tasks[task].score for i in indices)
    tied = [i for i in indices if evaluations[i].tasks[task].score == top]
    return tied[0] if len(tied) == 1 else min(tied, key=lambda i: _size(evaluations[i].route(task)))


def choose_task(task: str, indices: list[int], evaluations: list[Evaluation],
                min_grounded: float = MIN_GROUNDED) -> RouteChoice:
    """Only the candidates on the best evidence any has (real, then written, then synthetic) compete; a
    model wins only where the lower bound of its 95% interval beats both the rules' figure and the
    trivial baseline's; else the rules, where they are a candidate; else no route."""
    top = min(evidence_rank(evaluations[i].tasks[task]) for i in indices)
    level = [i for i in indices if evidence_rank(evaluations[i].tasks[task]) == top]
    evidence = EVIDENCE_ORDER[top] if top < len(EVIDENCE_ORDER) else "none"
    rules = [i for i in level if is_rules(evaluations[i], task)]
    rules_score = max((evaluations[i].tasks[task].score for i in rules), default=None)
    baselines = [b for i in level if (b := evaluations[i].tasks[task].baseline) is not None]
    baseline = max(baselines, key=lambda b: b.score) if baselines else None
    bars = [bar for bar in (rules_score, baseline.score if baseline else None) if bar is not None]
    models = [i for i in _well_grounded(task, level, evaluations, min_grounded) if i not in rules]
    earned = [i for i in models if all(evaluations[i].tasks[task].ci95[0] > bar for bar in bars)]
    best = _best(level, task, evaluations)
    if earned:
        return RouteChoice(_best(earned, task, evaluations), evidence, rules_score, baseline,
                           "model: lower 95% bound above the rules and the trivial baseline", best)
    if rules:
        why = ("rules: no model's lower 95% bound beat them and the baseline" if models else
               "rules: the models' values are mostly not in the report (below the grounding floor)"
               if len(level) > len(rules) else "rules: the only candidate")
        if baseline is not None and rules_score <= baseline.score:
            why += " (the rules do not beat the trivial baseline)"
        return RouteChoice(_best(rules, task, evaluations), evidence, rules_score, baseline, why, best)
    return RouteChoice(None, evidence, None, baseline,
                       "none: no rules candidate, and no model's lower 95% bound beat the trivial baseline", best)


def choose_routes(evaluations: list[Evaluation], min_grounded: float = MIN_GROUNDED) -> dict[str, RouteChoice]:
    """task -> its RouteChoice among every evaluation that scored it."""
    candidates: dict[str, list[int]] = {}
    for i, evaluation in enumerate(evaluations):
        for task in evaluation.tasks:
            candidates.setdefault(task, []).append(i)
    return {task: choose_task(task, indices, evaluations, min_grounded) for task, indices in candidates.items()}


def off_the_test_list(eval_paths: list[str]) -> list[Evaluation]:
    """The evaluations, each checked to hold no record of the fixed test list (which is scored for a
    report, never used to choose anything); raises RouteRefused."""
    evaluations = [Evaluation.load(p) for p in eval_paths]
    for path, evaluation in zip(eval_paths, evaluations):
        if evaluation.test_list_records is None:
            raise RouteRefused(f"{path} does not record whether its records come from the fixed test list: "
                               "re-run `radlite train eval` on the validation split")
        if evaluation.test_list_records:
            raise RouteRefused(f"{path} scored {evaluation.test_list_records} record(s) of the fixed IU X-ray test "
                               "list: routes are chosen on the validation split only")
    return evaluations


def task_figures(fig: TaskEvaluation, model: str, choice: RouteChoice) -> TaskFigures:
    """The manifest's figures of one task: the chosen candidate's, beside what it had to beat."""
    base = choice.baseline
    return TaskFigures(model=model, metric=fig.metric, score=fig.score, ci95=fig.ci95, validity=fig.validity,
                       n=fig.n, grounded_share=fig.grounded_share, evidence=choice.evidence,
                       baseline=base.name if base else None, baseline_score=base.score if base else None,
                       baseline_ci95=base.ci95 if base else None, rules_score=choice.rules_score, reason=choice.reason)


def built_from(path: str) -> str:
    """How the manifest names an evaluation: its folder and file (``rules-real/eval.json``)."""
    return os.path.join(os.path.basename(os.path.dirname(os.path.abspath(path))), os.path.basename(path))


def minimum_score(task: str, figure: float, baseline: Evaluation | None) -> float:
    """A smoke run's minimum for ``task``: the baseline's score on the smoke set when one is given
    (below the model without its adapters or rules, the routing has lost its reason to exist), else
    the routed figure less MIN_SCORE_MARGIN; three decimals, rounded down."""
    score = baseline.tasks[task].score if baseline is not None and task in baseline.tasks else figure - MIN_SCORE_MARGIN
    return max(0.0, math.floor(round(score * 1000, 6)) / 1000)


def build_routing(eval_paths: list[str], out_path: str, name: str, smoke_set: str | None = None,
                  min_grounded: float = MIN_GROUNDED, baseline_path: str | None = None,
                  minimums: RoutingManifest | None = None) -> RoutingTable:
    """Write the routing table (with manifest: sha256s, figures, minimum scores) to ``out_path``;
    ``baseline_path``: an eval.json of a baseline on the smoke set, the source of the minimums;
    ``minimums``: an earlier manifest whose baseline-derived minimums are kept (they do not depend on
    the route)."""
    evaluations = off_the_test_list(eval_paths)
    baseline = Evaluation.load(baseline_path) if baseline_path else None
    routes = choose_routes(evaluations, min_grounded)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    models: dict[str, ModelEntry] = {}
    tasks: dict[str, str | list[str]] = {}
    figures: dict[str, TaskFigures] = {}
    min_scores: dict[str, float] = {}
    unrouted: dict[str, TaskFigures] = {}
    for task, choice in sorted(routes.items()):
        if choice.index is None:
            best = evaluations[choice.best]
            unrouted[task] = task_figures(best.tasks[task], f"{best.routing}:{'+'.join(best.route_keys(task))}",
                                          choice)
            continue
        evaluation = evaluations[choice.index]
        fig = evaluation.tasks[task]
        keys = []
        for source_key, entry in zip(evaluation.route_keys(task), evaluation.route(task), strict=True):
            key = f"{evaluation.routing}.{source_key}" if entry.traits.loads_files else entry.kind
            pinned = entry.pinned().with_paths(lambda path: portable_path(path, out_dir))
            # one key per distinct model: candidates that are the same base + adapters share it, so
            # a report's tasks on it are decoded together and its prefix is evaluated once
            key = next((k for k, e in models.items() if e == pinned), key)
            models.setdefault(key, pinned)
            keys.append(key)
        tasks[task] = keys[0] if len(keys) == 1 else keys
        figures[task] = task_figures(fig, "+".join(keys), choice)
        min_scores[task] = (minimums.min_scores[task] if minimums and task in minimums.min_scores
                            else minimum_score(task, fig.score, baseline))
    basis = (f"the score of {baseline.routing} on {baseline.split}" if baseline else
             f"the routed figure less {MIN_SCORE_MARGIN:.2f} (policy margin)")
    if minimums:
        basis = minimums.min_scores_basis  # where the kept numbers came from, verbatim
    manifest = RoutingManifest(min_scores=min_scores, min_scores_basis=basis, figures=figures, unrouted=unrouted,
                                built_from=[built_from(p) for p in eval_paths],
                                figures_from="the evaluations in built_from; each figure says its evidence, n "
                                             "and baseline")
    if smoke_set:
        manifest.smoke_set = f"{name}-smoke.jsonl"
        target = os.path.join(out_dir, manifest.smoke_set)
        if not (os.path.exists(target) and os.path.samefile(smoke_set, target)):
            shutil.copyfile(smoke_set, target)
    table = RoutingTable(name=name, description=f"built by radlite train route from {len(eval_paths)} evaluation(s)",
                         models=models, tasks=tasks, manifest=manifest)
    write_routing(table, out_path)
    return table
