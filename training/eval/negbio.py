"""CheXpert labels scored against NegBio's hand labels of IU X-ray reports: human labels only.

The reference is what people labelled: per report, which of NegBio's findings are present. Mapped
to CheXpert (training/data/sources/openi.py) that covers nine labels, and only "positive vs not":
NegBio's gold says nothing about negated or uncertain findings, nor about the other five labels, so
those are never scored here. (The training records fill them in from the rules; that is agreement
with the rules, reported apart, never as accuracy.)

Used by ``benchmarks/quality_iu.py`` (through ``radlite run``) and by the validation-split
regression test (the rule extractors called directly, the same function ``kind: rules`` calls).

Entity claims: an ``entities`` row labelled OBS-DP says its finding is present, OBS-DA absent,
OBS-U neither. Where the finding is one of the eight NegBio covers, the claim is scored against the
report's gold: a present claim agrees when NegBio marks that finding positive in that report, an
absent claim when it does not. Uncertain claims are counted apart, never scored.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from radlite.chexpert import MENTIONS, label_report
from radlite.report import Report
from radlite.text.assertion import STATUS_OF_RADGRAPH, Status
from training.data.sources.openi import MAPPED_LABELS, read_gold, read_reports, read_test_ids

#: An uncertain status counts as positive for these ("borderline cardiomegaly" is positive in
#: NegBio's gold; chosen on the validation split).
COUNTS_UNCERTAIN = {"cardiomegaly"}
SPLITS = ("validation", "test")
#: The findings NegBio's gold says present or not (its mapped labels less "no finding").
GOLD_FINDINGS = tuple(label for label in MAPPED_LABELS if label != "no finding")


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


class Claim(NamedTuple):
    """What one statement says of one finding NegBio covers: present, absent or uncertain."""

    finding: str
    assertion: Status


class ClaimAgreement(NamedTuple):
    """Claims scored against NegBio's gold: present and absent claims with how many agree; uncertain
    claims counted apart (the gold says nothing of them)."""

    present: int
    present_agree: int
    absent: int
    absent_agree: int
    uncertain: int


@lru_cache(maxsize=1)
def _finding_patterns() -> dict[str, re.Pattern]:
    """The CheXpert phrase tables of the findings NegBio covers, each as one pattern on word boundaries
    (as radlite.chexpert reads them; compiled here so the rules' fingerprint stays theirs)."""
    return {finding: re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in MENTIONS[finding]) + r")\b", re.I)
            for finding in GOLD_FINDINGS}


def entity_claim(text: str, label: str, report_text: str, start: int | None = None,
                 end: int | None = None) -> Claim | None:
    """The finding an ``entities`` row claims present / absent / uncertain, or None (anatomy, or no
    finding NegBio covers). The finding is named by the CheXpert phrase tables (radlite.chexpert): in
    the report, by a phrase overlapping the row's span [start, end) when it has one ("enlarged" in "the
    heart is enlarged" claims cardiomegaly; "nodule" in "calcified nodule" claims nothing, as the
    tables read it); in the row's own words when it has none."""
    assertion = STATUS_OF_RADGRAPH.get(label)
    if assertion is None:
        return None
    located = start is not None and end is not None
    for finding, pattern in _finding_patterns().items():
        if (any(m.start() < end and start < m.end() for m in pattern.finditer(report_text)) if located
                else pattern.search(text)):
            return Claim(finding, assertion)
    return None


def claim_agreement(claims: Iterable[tuple[str, Claim]], gold: dict[str, set[str]]) -> ClaimAgreement:
    """(NegBio key, claim) pairs scored against the gold: a present claim agrees when the report's gold
    marks the finding positive, an absent claim when it does not; a report the gold lacks has none."""
    present = absent = present_agree = absent_agree = uncertain = 0
    for key, claim in claims:
        positive = claim.finding in gold.get(key, set())
        if claim.assertion == "present":
            present, present_agree = present + 1, present_agree + positive
        elif claim.assertion == "absent":
            absent, absent_agree = absent + 1, absent_agree + (not positive)
        else:
            uncertain += 1
    return ClaimAgreement(present, present_agree, absent, absent_agree, uncertain)
