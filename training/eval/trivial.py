"""Trivial baselines: what a model has to beat to be worth running, scored exactly like a model's answer.

Every task: (a) the most frequent reference answer of the records scored (the best constant answer on
that set: it reads the set's labels, so it is a bar set high, never tuned on); for impression
generation also (b) the most frequent impression of a training split ("No acute cardiopulmonary
abnormality." or whatever a split's commonest is) and (c) the last sentence of the findings, which is
often what a radiologist restates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from training.data.records import InstructionRecord
from training.eval.predict import Prediction, scored
from training.eval.records import BaselineFigure
from training.eval.stats import bootstrap_ci

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


def set_answerers(records: list[InstructionRecord], task: str) -> dict[str, Callable[[InstructionRecord], str]]:
    """Baseline name -> answer for one record of ``task``, drawn from the scored records themselves."""
    frequent = most_frequent_output(records, task)
    answerers = {"most frequent reference answer": lambda record: frequent}
    if task == TASK:
        answerers["last sentence of the findings"] = lambda record: last_sentence(record.input)
    return answerers


def trivial_predictions(records: list[InstructionRecord], answer: Callable[[InstructionRecord], str],
                        name: str, task: str = TASK) -> list[Prediction]:
    """One scored prediction per ``task`` record, as ``predict`` scores a model's."""
    return [scored(record, name, answer(record), 0.0) for record in records if record.task == task]


def baseline_figure(records: list[InstructionRecord], task: str) -> BaselineFigure:
    """The best of ``set_answerers`` on the ``task`` records, with its bootstrap 95% interval."""
    figures = []
    for name, answer in set_answerers(records, task).items():
        scores = [p.score for p in trivial_predictions(records, answer, name, task)]
        figures.append(BaselineFigure(name=name, score=sum(scores) / len(scores), ci95=bootstrap_ci(scores),
                                      n=len(scores)))
    return max(figures, key=lambda f: f.score)
