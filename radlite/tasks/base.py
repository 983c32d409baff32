"""What every task is: applicability, inputs, prompts' task parts, grammar, parser, rows, metric.

A task is one object; the pipeline, the benchmark and the training evaluation all use the same one.
"""

from __future__ import annotations

import json
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from llama_cpp.llama_grammar import json_schema_to_gbnf
from pydantic import BaseModel
from rouge_score import rouge_scorer

from radlite.evidence import Evidence
from radlite.report import Report, build_report
from radlite.tasks.report_span_grammar import span_rules
from radlite.tasks.table import TaskTable


class ParseError(ValueError):
    """Model output that does not parse into the task's typed result."""


@dataclass(frozen=True)
class TaskInstance:
    """One prompt's worth of a task for one report (NLI has one per impression sentence, QA one per question).

    ``input_text`` is what the task reads (the report, its findings, premise and hypothesis, question
    and report); ``instruction`` is the short line that says what to do with it (the task's
    instruction, the NLI hypothesis, the QA question), empty when the task name says it all.
    """

    task: str
    input_text: str
    instruction: str
    context: dict = field(default_factory=dict, hash=False, compare=False)


#: ``TaskInstance.context`` key: the report texts an extractive field may copy from (a tuple of str).
SPAN_SOURCE = "span_source"


def span_source(instance: TaskInstance | None) -> tuple[str, ...] | None:
    """The texts ``instance``'s extractive fields must copy from; None when unconstrained (no report:
    training targets, format checks)."""
    return instance.context.get(SPAN_SOURCE) if instance is not None else None


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


#: A function a task names for a floor above it: the function itself (set on the class as a staticmethod),
#: or its "module:name" path where it lives above the task registry (the rule extractors in radlite.rules,
#: which imports the tasks).
Hook = Callable | str | None


def resolve_hook(hook: Hook) -> Callable | None:
    """The function a task's hook names (pkgutil.resolve_name reads "module:name"); None for no hook."""
    return _resolve_path(hook) if isinstance(hook, str) else hook


@cache
def _resolve_path(path: str) -> Callable:
    return pkgutil.resolve_name(path)


class Task:
    """Task facts only (no prompt format): subclasses set the class attributes and override what differs.

    Besides its table, a task declares what other code looks up by task name: its rule extractor
    (``rules``, answering ``(report, instance) -> RuleAnswer | None``) and the rules' answer when the
    report states nothing (``nothing_stated``, ``report -> RuleAnswer``; radlite.rules.answers), the check
    of a value against its own evidence words (``support_check``, ``(row, text, start, end) -> bool |
    None``; radlite.evidence_support), and its share of the training mix (``curation_weight``,
    ``curation_cap``; training.data.curation).
    """

    name: str = ""
    #: The table this task's rows go to, declared once (radlite.tasks.table).
    writes: TaskTable
    version: int = 1
    rules: Hook = None
    nothing_stated: Hook = None
    support_check: Hook = None
    #: Task-weighted sampling of the training stream (paper, section 3.3): each record this many times.
    curation_weight: float = 1.0
    #: At most this many training samples of the task (paper, section 3.2: high-volume tasks; None: no cap).
    curation_cap: int | None = None
    #: What to do, for prompt formats that state it after the task's name. Empty for most tasks: the
    #: name says what to do and the grammar fixes the answer format.
    instruction: str = ""

    @property
    def table(self) -> str:
        """Name of the table this task writes."""
        return self.writes.name

    def skip_reason(self, report: Report) -> str | None:
        """Why this task does not apply to ``report`` (stored in reports.tasks_skipped); None when it does."""
        return None

    def input_text(self, report: Report) -> str:
        """The text this task reads (the whole report unless a task reads less)."""
        return report.text

    def visible_text(self, report: Report) -> str:
        """The part of the report the model may see for this task (all of it unless it holds the answer)."""
        return report.text

    def instances(self, report: Report, questions: tuple = ()) -> list[TaskInstance]:
        return [TaskInstance(self.name, self.input_text(report), self.instruction)]

    def record_instance(self, source: str, record_id: str, text: str, context: dict[str, str]
                        ) -> tuple[Report, TaskInstance]:
        """(Report, TaskInstance) for a training record (its ``text`` and ``context``: training.data.records),
        built the way the pipeline builds them."""
        report = build_report(source, record_id, text)
        instances = self.instances(report)
        return report, instances[0] if instances else TaskInstance(self.name, text, "")

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        """The compact answer: its grammar, the token budget that always fits it, and stops.
        ``instance`` lets a task size the budget to its input."""
        raise NotImplementedError

    def parse(self, raw: str) -> BaseModel:
        """Typed result from raw model output in any format a profile produces; raises ParseError."""
        raise NotImplementedError

    def rows(self, result: BaseModel, instance: TaskInstance, report: Report) -> list[dict]:
        """Task-specific columns of the output rows for one parsed result."""
        return [result.model_dump()]

    def ground(self, result: BaseModel, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """Per row of ``rows(result, ...)`` where in the report its value comes from, found
        deterministically: an Evidence (not grounded when looked for and not found), or None when the
        row claims nothing to point at. Tasks whose table has no evidence columns keep this default."""
        return [None] * len(self.rows(result, instance, report))

    def known_columns(self, instance: TaskInstance, report: Report) -> dict:
        """Columns known before the answer (NLI sentence, QA question, reference impression), on valid
        and invalid rows alike."""
        return {}

    #: Classification tasks are compared with McNemar's test; the others with Wilcoxon on scores.
    classification: bool = False
    #: Name of the paper's metric that ``score`` computes per sample (reports and routing figures).
    metric_name: str = ""

    def score(self, prediction: BaseModel | None, reference: BaseModel) -> float:
        """Per-sample score of the paper's metric (None = unparseable output, scores 0)."""
        raise NotImplementedError

    def answer(self, result: BaseModel) -> str:
        """A result written in this task's compact answer format (training targets)."""
        raise NotImplementedError


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (rouge-score, with stemming), the paper's metric for generated text."""

    return _scorer().score(reference or "", prediction or "")["rougeL"].fmeasure


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def json_grammar(schema: dict) -> str:
    """GBNF grammar for a JSON schema, by llama.cpp's own converter."""
    return json_schema_to_gbnf(json.dumps(schema))


def with_rule(grammar: str, name: str, definition: str) -> str:
    """``grammar`` with rule ``name`` defined as ``definition`` instead (a GBNF rule is one line here)."""
    head = f"{name} ::= "
    lines = grammar.splitlines()
    if not any(line.startswith(head) for line in lines):
        raise ValueError(f"grammar has no rule {name!r}")
    return "\n".join(head + definition if line.startswith(head) else line for line in lines) + "\n"


#: The rule llama.cpp's JSON-schema converter writes for the text (first) field of a ``pairs_schema`` item.
PAIRS_TEXT_RULE = "item-tuple-0"
#: A pairs answer with nothing to quote: the empty list.
EMPTY_PAIRS_GRAMMAR = 'root ::= "[" space "]" space\nspace ::= " "?\n'


def pairs_grammar(schema: dict, text_max_chars: int, source: tuple[str, ...] | None) -> str:
    """The grammar of a ``pairs_schema`` answer; with a ``source``, each pair's text is a span of it
    (radlite.tasks.report_span_grammar), so the text copies the report by construction."""
    grammar = json_grammar(schema)
    if source is None:
        return grammar
    spans = span_rules(source, text_max_chars, json_escaped=True)
    if spans is None:
        return EMPTY_PAIRS_GRAMMAR
    return with_rule(grammar, PAIRS_TEXT_RULE, '"\\"" span "\\"" space') + spans


def literal_grammar(options) -> str:
    """GBNF grammar accepting exactly one of ``options``."""
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


def pairs_from_text(text: str, first: str, second: str) -> list[tuple[str, str]] | None:
    """Pairs from a JSON answer (see pairs_from_json); None when the text is not such JSON."""
    try:
        return pairs_from_json(json.loads(text), first, second)
    except json.JSONDecodeError:
        return None


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
