"""The paper's curation as code: dedup, validity checks, caps, test/validation splits, task weights.

Splits are drawn per task with seed 42 and are disjoint from training; weighted sampling repeats
(or thins) training records by task weight so the training stream follows the paper's mix.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable

from pydantic import BaseModel

from radlite.tasks import TASKS
from training.data.records import InstructionRecord, valid_output

#: Paper, section 3.2: high-volume tasks capped at 30,000 samples (each task's ``curation_cap``).
CAPS = {name: task.curation_cap for name, task in TASKS.items() if task.curation_cap is not None}
#: Paper, section 3.3: task-weighted sampling (each task's ``curation_weight``; 1.0 where not named here).
WEIGHTS = {name: task.curation_weight for name, task in TASKS.items() if task.curation_weight != 1.0}
SEED = 42


class CurationConfig(BaseModel):
    test_per_task: int = 500
    validation_per_task: int = 100
    #: Never take more than this share of a task for test (and again for validation).
    max_heldout_share: float = 0.2
    caps: dict[str, int] = CAPS
    weights: dict[str, float] = WEIGHTS
    seed: int = SEED
    #: Reports on a fixed test list (NegBio's 771 IU ids): their records are the test split of their
    #: tasks, and records of other real reports are never drawn into a test split.
    test_reports: frozenset[str] = frozenset()


class CurationResult(BaseModel):
    splits: dict[str, list[InstructionRecord]]
    dropped: dict[str, int]


def dedup_and_validate(records: Iterable[InstructionRecord]) -> tuple[list[InstructionRecord], Counter]:
    """Exact-match dedup on (task, input, context) and the non-empty / valid-label checks."""
    seen: set[tuple] = set()
    kept, dropped = [], Counter()
    for record in records:
        key = (record.task, record.input.strip(), tuple(sorted(record.context.items())))
        if key in seen:
            dropped["duplicate_input"] += 1
        elif not record.input.strip():
            dropped["empty_input"] += 1
        elif not valid_output(record):
            dropped["invalid_output"] += 1
        else:
            seen.add(key)
            kept.append(record)
    return kept, dropped


def weighted_stream(records: list[InstructionRecord], weights: dict[str, float], rng: random.Random
                    ) -> list[InstructionRecord]:
    """Each record floor(w) times plus once more with probability frac(w), shuffled."""
    stream = []
    for record in records:
        weight = weights.get(record.task, 1.0)
        copies = int(weight) + (rng.random() < weight - int(weight))
        stream.extend([record] * copies)
    rng.shuffle(stream)
    return stream


def curate(records: Iterable[InstructionRecord], config: CurationConfig = CurationConfig()) -> CurationResult:
    # Records of the fixed test list first: a training record with the same text as a test report is
    # the duplicate that is dropped, so no test report's text reaches training.
    kept, dropped = dedup_and_validate(sorted(records, key=lambda r: r.report_key not in config.test_reports))
    by_task: dict[str, list[InstructionRecord]] = defaultdict(list)
    for record in kept:
        by_task[record.task].append(record)
    splits: dict[str, list[InstructionRecord]] = {"train": [], "validation": [], "test": []}
    for task in sorted(by_task):
        fixed_test = [r for r in by_task[task] if r.report_key in config.test_reports]
        items = sorted((r for r in by_task[task] if r.report_key not in config.test_reports), key=lambda r: r.id)
        random.Random(config.seed).shuffle(items)
        heldout = int(len(items) * config.max_heldout_share)
        n_test = 0 if fixed_test else min(config.test_per_task, heldout)
        n_val = min(config.validation_per_task, heldout)
        test, val, train = items[:n_test] + fixed_test, items[n_test:n_test + n_val], items[n_test + n_val:]
        cap = config.caps.get(task)
        if cap and len(train) > cap:
            dropped["over_cap"] += len(train) - cap
            train = random.Random(config.seed).sample(train, cap)
        for name, part in (("test", test), ("validation", val), ("train", train)):
            splits[name].extend(r.model_copy(update={"split": name}) for r in part)
    splits["train_weighted"] = weighted_stream(splits["train"], config.weights, random.Random(config.seed))
    return CurationResult(splits=splits, dropped=dict(dropped))


class SplitCounts(BaseModel):
    """How many records one split holds, by task, source and label tier."""

    total: int
    by_task: dict[str, int]
    by_source: dict[str, int]
    by_tier: dict[str, int]
    synthetic: int
    #: task -> real (gold labels on real reports), silver (labels from rules or models) and synthetic records.
    by_origin: dict[str, dict[str, int]] = {}
    #: abnormality detection, real reports: CheXpert label -> tier of its value (gold: NegBio's hand
    #: label, positive vs not; silver: the rules) -> records
    label_tiers: dict[str, dict[str, int]] = {}


class DatasetCard(BaseModel):
    """dataset_card.json: per split counts, and what curation dropped and why."""

    splits: dict[str, SplitCounts]
    dropped: dict[str, int]


def _origin(record: InstructionRecord) -> str:
    if record.synthetic:
        return "synthetic"
    return "real" if record.tier.value == "gold" else "silver"


def _origins(records) -> dict[str, dict[str, int]]:
    origins: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        origins[record.task][_origin(record)] += 1
    return {task: dict(sorted(c.items())) for task, c in sorted(origins.items())}


def _label_tiers(records) -> dict[str, dict[str, int]]:
    tiers: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        for label, tier in record.label_tiers.items():
            tiers[label][tier.value] += 1
    return {label: dict(sorted(c.items())) for label, c in tiers.items()}


def _counts(values) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def dataset_card(result: CurationResult) -> DatasetCard:
    """Counts per split, task, source and tier, plus what was dropped and why."""
    return DatasetCard(dropped=result.dropped, splits={
        name: SplitCounts(total=len(records), by_task=_counts(r.task for r in records),
                          by_source=_counts(r.source for r in records), by_tier=_counts(r.tier.value for r in records),
                          synthetic=sum(r.synthetic for r in records), by_origin=_origins(records),
                          label_tiers=_label_tiers(records))
        for name, records in result.splits.items()})


def card_markdown(card: DatasetCard) -> str:
    lines = ["# Dataset card", "", "Built by `radlite train build-data`. Records marked synthetic come from "
             "`training/data/synthetic_reports.py` and are not clinical data. Real: gold labels on real reports; "
             "silver: labels from the rule extractors, wholly or in part. IU X-ray abnormality records are silver: "
             "NegBio's hand labels say only positive-vs-not for nine CheXpert labels; the rules give the other five "
             "labels and every negative or uncertain status. Per label, the table under each split says which.", ""]
    for name, split in card.splits.items():
        lines += [f"## {name}: {split.total} records ({split.synthetic} synthetic)", "",
                  "| task | n |", "|---|---|"]
        lines += [f"| {task} | {n} ({', '.join(f'{k} {v}' for k, v in split.by_origin.get(task, {}).items())}) |"
                  for task, n in split.by_task.items()]
        if split.label_tiers:
            lines += ["", "Abnormality detection on real reports, per label (gold: NegBio's hand label, positive vs "
                      "not; silver: the rules):", "", "| label | gold | silver |", "|---|---|---|"]
            lines += [f"| {label} | {c.get('gold', 0)} | {c.get('silver', 0)} |"
                      for label, c in split.label_tiers.items()]
        lines += ["", "Sources: " + ", ".join(f"{k} {v}" for k, v in split.by_source.items()),
                  "Tiers: " + ", ".join(f"{k} {v}" for k, v in split.by_tier.items()), ""]
    lines += ["Dropped: " + (", ".join(f"{k} {v}" for k, v in card.dropped.items()) or "none"), ""]
    return "\n".join(lines)
