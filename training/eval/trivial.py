"""Trivial baselines for impression generation: what a model has to beat to be worth running.

(a) the most frequent impression of the training split, written for every report ("No acute
cardiopulmonary abnormality." or whatever a split's commonest is); (b) the last sentence of the
findings, which is often what a radiologist restates. Both are scored exactly like a model's answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from training.data.records import InstructionRecord
from training.eval.predict import Prediction, scored

TASK = "impression_generation"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def most_frequent_output(train: list[InstructionRecord], task: str = TASK) -> str:
    """The commonest reference answer of ``task`` in the training records (ties: the first seen)."""
    counts = Counter(r.output.strip() for r in train if r.task == task)
    if not counts:
        raise ValueError(f"the training split has no {task} records")
    return counts.most_common(1)[0][0]


def last_sentence(text: str) -> str:
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return sentences[-1] if sentences else ""


def trivial_answerers(train: list[InstructionRecord]) -> dict[str, Callable[[InstructionRecord], str]]:
    """Baseline name -> answer for one impression_generation record."""
    frequent = most_frequent_output(train)
    return {"most frequent training impression": lambda record: frequent,
            "last sentence of the findings": lambda record: last_sentence(record.input)}


def trivial_predictions(records: list[InstructionRecord], answer: Callable[[InstructionRecord], str],
                        name: str) -> list[Prediction]:
    """One scored prediction per impression_generation record, as ``predict`` scores a model's."""
    return [scored(record, name, answer(record), 0.0) for record in records if record.task == TASK]
