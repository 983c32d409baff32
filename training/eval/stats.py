"""The paper's statistics: bootstrap CIs, McNemar and Wilcoxon between models, RADS error analysis."""

from __future__ import annotations

from collections import Counter

import numpy as np

from radlite.tasks import ParseError
from radlite.tasks.nli import NLI_LABELS, parse_nli
from radlite.tasks.rads import normalize_rads
from training.eval.records import RadsAnalysis
from training.optional import require


def bootstrap_ci(scores: list[float], seed: int = 42, resamples: int = 2000) -> tuple[float, float]:
    """Percentile bootstrap 95% CI of the mean (scipy.stats.bootstrap)."""
    if len(scores) < 2 or len(set(scores)) == 1:
        value = float(np.mean(scores)) if scores else 0.0
        return value, value
    result = require("scipy.stats").bootstrap((np.asarray(scores, dtype=float),), np.mean, n_resamples=resamples,
                                              confidence_level=0.95, method="percentile", random_state=seed)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def mcnemar_test(correct_a: list[bool], correct_b: list[bool]) -> dict:
    """Exact McNemar test on paired correct/incorrect outcomes (statsmodels)."""
    table = [[0, 0], [0, 0]]
    for a, b in zip(correct_a, correct_b):
        table[int(not a)][int(not b)] += 1
    result = require("statsmodels.stats.contingency_tables").mcnemar(table, exact=True)
    return {"test": "mcnemar", "table": table, "statistic": float(result.statistic), "p_value": float(result.pvalue)}


def wilcoxon_test(scores_a: list[float], scores_b: list[float]) -> dict:
    """Wilcoxon signed-rank test on paired per-sample scores (scipy); p=1 when all pairs tie."""
    differences = [a - b for a, b in zip(scores_a, scores_b)]
    if not any(differences):
        return {"test": "wilcoxon", "statistic": 0.0, "p_value": 1.0}
    result = require("scipy.stats").wilcoxon(scores_a, scores_b)
    return {"test": "wilcoxon", "statistic": float(result.statistic), "p_value": float(result.pvalue)}


def rads_analysis(raw_outputs: list[str], references: list[str]) -> RadsAnalysis:
    """Validity, per-system accuracy, and errors split into undercall / overcall (same system, lower /
    higher severity rank), safe (same rank, other label), wrong_system and invalid."""
    per_system: dict[str, list[int]] = {}
    errors = Counter()
    valid = 0
    for raw, ref in zip(raw_outputs, references):
        truth = normalize_rads(ref)
        try:
            pred = normalize_rads(raw)
            valid += 1
        except ParseError:
            pred = None
        system = truth.system or "none"
        per_system.setdefault(system, []).append(int(pred is not None and pred.label == truth.label))
        if pred is None:
            errors["invalid"] += 1
        elif pred.label == truth.label:
            continue
        elif pred.system != truth.system or pred.severity_rank is None or truth.severity_rank is None:
            errors["wrong_system"] += 1
        elif pred.severity_rank < truth.severity_rank:
            errors["undercall"] += 1
        elif pred.severity_rank > truth.severity_rank:
            errors["overcall"] += 1
        else:
            errors["safe"] += 1  # same severity, different label (e.g. BI-RADS 4 vs 4A)
    return RadsAnalysis(
        validity=valid / len(references) if references else 0.0,
        per_system_accuracy={s: sum(v) / len(v) for s, v in sorted(per_system.items())},
        per_system_n={s: len(v) for s, v in sorted(per_system.items())},
        errors=dict(errors),
    )


def nli_confusion(raw_outputs: list[str], references: list[str]) -> dict:
    """Confusion matrix rows = reference, columns = prediction (plus 'invalid')."""
    columns = list(NLI_LABELS) + ["invalid"]
    matrix = {ref: dict.fromkeys(columns, 0) for ref in NLI_LABELS}
    for raw, ref in zip(raw_outputs, references):
        try:
            pred = parse_nli(raw)
        except ParseError:
            pred = "invalid"
        matrix[ref][pred] += 1
    return matrix
