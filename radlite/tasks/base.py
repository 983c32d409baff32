"""What every task is: applicability, inputs, prompts' task parts, grammar, parser, rows, metric.

A task is one object; the pipeline, the benchmark and the training evaluation all use the same one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel

from radlite.report import Report

PAPER, V1 = "radlite-paper", "radlite-v1"


class ParseError(ValueError):
    """Model output that does not parse into the task's typed result."""


@dataclass(frozen=True)
class TaskInstance:
    """One prompt's worth of a task for one report (NLI has one per impression sentence, QA one per question)."""

    task: str
    paper_input: str
    instruction: str
    key: str = ""
    context: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Decoding:
    """How the answer is decoded: token limit, stop strings and an optional GBNF grammar."""

    max_tokens: int
    stop: tuple[str, ...] = ()
    grammar: str | None = None


_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S)


def clean_output(raw: str) -> str:
    """Strip Qwen3 thinking blocks, ChatML leftovers and surrounding whitespace."""
    text = _THINK.sub("", raw)
    return text.replace("<|im_end|>", "").strip()


def free_text(raw: str, what: str) -> str:
    """Cleaned free-text output; an empty one is a ParseError (nothing was answered)."""
    text = clean_output(raw)
    if not text:
        raise ParseError(f"empty {what}")
    return text


class Task:
    """Base class; subclasses set the class attributes and override what differs."""

    name: str = ""
    table: str = ""
    version: int = 1
    #: Text after the ``[TASK: name]`` tag in the radlite-v1 profile. Empty for most tasks: the tag
    #: names the task and the grammar fixes the answer format, so the prompt suffix stays a few tokens.
    v1_instruction: str = ""

    def applies(self, report: Report) -> bool:
        return True

    def paper_input(self, report: Report) -> str:
        """The text filled into the published template's ``{report}`` slot."""
        return report.text

    def v1_report_text(self, report: Report) -> str:
        """The report text the radlite-v1 prompt starts with; the report's tasks share it as a prefix."""
        return report.text

    def instances(self, report: Report, questions: tuple = ()) -> list[TaskInstance]:
        return [TaskInstance(self.name, self.paper_input(report), self.v1_instruction)]

    def decoding(self, profile: str, instance: TaskInstance | None = None) -> Decoding:
        """Token budget, stops and grammar; ``instance`` lets a task size the budget to its input."""
        raise NotImplementedError

    def parse(self, raw: str, profile: str) -> BaseModel:
        """Typed result from raw model output; raises ParseError."""
        raise NotImplementedError

    def rows(self, result: BaseModel, instance: TaskInstance, report: Report) -> list[dict]:
        """Task-specific columns of the output rows for one parsed result."""
        return [result.model_dump()]

    def invalid_row(self, instance: TaskInstance, report: Report) -> dict:
        """Task-specific columns of the row stored when the output did not parse."""
        return {}

    #: Classification tasks are compared with McNemar's test; the others with Wilcoxon on scores.
    classification: bool = False

    def score(self, prediction: BaseModel | None, reference: BaseModel) -> float:
        """Per-sample score of the paper's metric (None = unparseable output, scores 0)."""
        raise NotImplementedError

    def metric(self, predictions: list, references: list) -> float:
        """The paper's metric: the mean per-sample score over parallel lists of parsed results."""
        if not references:
            return 0.0
        return sum(self.score(p, r) for p, r in zip(predictions, references)) / len(references)

    def answer(self, result: BaseModel) -> str:
        """A result written in this task's radlite-v1 answer format (training targets)."""
        raise NotImplementedError

    def prompt_id(self, profile: str) -> str:
        return f"{profile}/{self.name}@{self.version}"


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (rouge-score, with stemming), the paper's metric for generated text."""

    scorer = _scorer()
    return scorer.score(reference or "", prediction or "")["rougeL"].fmeasure


_SCORER = None


def _scorer():
    global _SCORER
    if _SCORER is None:
        from rouge_score import rouge_scorer

        _SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return _SCORER


def json_grammar(schema: dict) -> str:
    """GBNF grammar for a JSON schema, by llama.cpp's own converter."""
    import json

    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return json_schema_to_gbnf(json.dumps(schema))


def literal_grammar(options) -> str:
    """GBNF grammar accepting exactly one of ``options``."""
    import json

    return "root ::= " + " | ".join(json.dumps(o) for o in options) + "\n"


def pairs_schema(max_items: int, text_max_chars: int, labels: tuple[str, ...]) -> dict:
    """JSON schema of the compact answer ``[["text", "LABEL"], ...]`` used by list-valued tasks."""
    pair = {"type": "array", "prefixItems": [{"type": "string", "maxLength": text_max_chars}, {"enum": list(labels)}],
            "items": False, "minItems": 2, "maxItems": 2}
    return {"type": "array", "maxItems": max_items, "items": pair}


def pairs_max_chars(max_items: int, text_max_chars: int, labels: tuple[str, ...]) -> int:
    """Characters of the longest answer ``pairs_schema`` admits (escapes counted as two characters).

    A token covers at least one character, so a budget of this many tokens always fits a complete,
    parseable answer.
    """
    pair = len('[ "", "" ], ') + 2 * text_max_chars + max(len(label) for label in labels)
    return len("[ ] ") + max_items * pair


def pairs_from_json(obj, first: str, second: str) -> list[tuple[str, str]] | None:
    """(text, label) pairs from ``[["t", "L"], ...]`` or ``[{first: t, second: L}, ...]``; None if neither."""
    if not isinstance(obj, list):
        return None
    pairs = []
    for item in obj:
        if isinstance(item, list) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        elif isinstance(item, dict) and second in item:
            pairs.append((str(item.get(first, "")), str(item[second])))
        else:
            return None
    return pairs
