"""CheXpert labels scored against NegBio's hand labels of IU X-ray reports: human labels only.

The reference is what people labelled: per report, which of NegBio's findings are present. Mapped
to CheXpert (training/data/sources/openi.py) that covers nine labels, and only "positive vs not":
NegBio's gold says nothing about negated or uncertain findings, nor about the other five labels, so
those are never scored here. (The training records fill them in from the rules; that is agreement
with the rules, reported apart, never as accuracy.)

Used by ``benchmarks/quality_iu.py`` (through ``radlite run``) and by the validation-split
regression test (the rule extractors called directly, the same function ``kind: rules`` calls).
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from radlite.chexpert import label_report
from radlite.report import Report
from training.data.sources.openi import MAPPED_LABELS, read_gold, read_reports, read_test_ids

#: An uncertain status counts as positive for these ("borderline cardiomegaly" is positive in
#: NegBio's gold; chosen on the validation split).
COUNTS_UNCERTAIN = {"cardiomegaly"}
SPLITS = ("validation", "test")


def is_positive(finding: str, status: str) -> bool:
    return status == "positive" or (status == "uncertain" and finding in COUNTS_UNCERTAIN)


def scores(predicted: dict[str, set[str]], gold: dict[str, set[str]]) -> tuple[dict, float]:
    """Per mapped label (precision, recall, F1, support) and micro-F1 over the mapped labels."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for key, labels in predicted.items():
        truth = gold.get(key, set())
        for label in MAPPED_LABELS:
            tp[label] += label in labels and label in truth
            fp[label] += label in labels and label not in truth
            fn[label] += label not in labels and label in truth
    per_label = {}
    for label in MAPPED_LABELS:
        p = tp[label] / max(1, tp[label] + fp[label])
        r = tp[label] / max(1, tp[label] + fn[label])
        per_label[label] = (p, r, 2 * p * r / max(1e-9, p + r), tp[label] + fn[label])
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return per_label, 2 * t / max(1, 2 * t + f + n)


def micro_f1_ci(predicted: dict[str, set[str]], gold: dict[str, set[str]], seed: int = 42,
                resamples: int = 2000) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the micro-F1, resampling reports (scipy.stats.bootstrap):
    how far the figure could move on another sample of reports like these."""
    from scipy.stats import bootstrap

    counts = np.array([[sum(label in labels and label in gold.get(key, set()) for label in MAPPED_LABELS),
                        sum(label in labels and label not in gold.get(key, set()) for label in MAPPED_LABELS),
                        sum(label not in labels and label in gold.get(key, set()) for label in MAPPED_LABELS)]
                       for key, labels in predicted.items()], dtype=float)

    def micro(tp, fp, fn, axis=-1):
        t, f, n = tp.sum(axis=axis), fp.sum(axis=axis), fn.sum(axis=axis)
        return 2 * t / np.maximum(1, 2 * t + f + n)

    result = bootstrap(tuple(counts.T), micro, paired=True, vectorized=True, n_resamples=resamples,
                       confidence_level=0.95, method="percentile", random_state=seed)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def split_reports(data_dir: str, split: str) -> list[tuple[str, Report, dict]]:
    """(NegBio key, Report, CSV row) of one split: ``test`` is NegBio's fixed list, ``validation`` the rest."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: use one of {', '.join(SPLITS)}")
    test_ids = read_test_ids(os.path.join(data_dir, "negbio", "openi-testset.txt"))
    return [(key, report, row) for key, report, row in
            read_reports(os.path.join(data_dir, "iu-xray", "indiana_reports.csv"))
            if (key in test_ids) == (split == "test")]


def gold_labels(data_dir: str) -> dict[str, set[str]]:
    return read_gold(os.path.join(data_dir, "negbio", "openi_gld_std14.csv"))


def rule_labels(report: Report) -> set[str]:
    """The CheXpert labels the rule extractors call positive in one report."""
    return {name for name, mention in label_report(report).items()
            if mention is not None and is_positive(name, mention.status)}
