"""Registry questions asked of every report (``--questions`` YAML)."""

from __future__ import annotations

import json

import pyarrow as pa
import yaml
from pydantic import BaseModel

from radlite.columns import columns
from radlite.evidence import Evidence
from radlite.report import Report, build_report
from radlite.tasks.base import (
    SPAN_SOURCE,
    Decoding,
    Task,
    TaskInstance,
    free_text,
    literal_grammar,
    rouge_l,
    span_source,
)
from radlite.tasks.report_span_grammar import span_rules
from radlite.tasks.table import ReviewView, TaskTable
from radlite.text.spans import find_phrase, phrase_texts

#: The free-text answer that quotes nothing: the report does not answer the question.
NOT_STATED = "not stated"
#: Token budget of a free-text answer written freely; the longest quote (characters, and so tokens: a
#: token holds at least one character, so the budget always fits a whole quote).
ANSWER_TOKENS, QUOTE_CHARS = 24, 80


def quote_grammar(source: tuple[str, ...]) -> str:
    """A free-text answer: a span of ``source`` (radlite.tasks.report_span_grammar), or ``not stated``."""
    spans = span_rules(source, QUOTE_CHARS)
    if spans is None:
        return literal_grammar((NOT_STATED,))
    return f"root ::= span | {json.dumps(NOT_STATED)}\n" + spans


class Question(BaseModel):
    """A registry question; with ``choices`` the answer is constrained to one of them."""

    id: str
    question: str
    choices: tuple[str, ...] = ()


def load_questions(path: str) -> tuple[Question, ...]:
    """Questions from YAML: ``questions: [{id, question}, ...]``."""
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    items = data.get("questions", data) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list under 'questions'")
    return tuple(Question(**item) for item in items)


class QaResult(BaseModel):
    answer: str


QA_ANSWERS_TABLE = TaskTable(
    "qa_answers",
    "Answers to registry questions (radiology_qa).",
    columns(
        ("question_id", pa.string(), "Question id from the --questions file."),
        ("question", pa.string(), "Question text."),
        ("answer", pa.string(), "Answer text."),
    ),
    evidence=True,
    review=ReviewView(("question_id",), lambda r: r["question_id"], lambda r: r["answer"] or "",
                      lambda r: "positive" if r["answer"] else "not_mentioned"),
)


class RadiologyQa(Task):
    name = "radiology_qa"
    writes = QA_ANSWERS_TABLE
    curation_weight = 0.5
    curation_cap = 30_000
    metric_name = "rouge_l"

    def record_instance(self, source: str, record_id: str, text: str, context: dict[str, str]
                        ) -> tuple[Report, TaskInstance]:
        """A record keeps its question (else ``text``) and, where it has one, its report in ``context``."""
        question = context.get("question", text)
        report_text = context.get("report") or "(no report)"
        report = build_report(source, record_id, report_text)
        paper = f"{question}\n\nReport:\n{context['report']}" if context.get("report") else question
        # with a report, the answer quotes it as in the pipeline (RadiologyQa.instances); without, it is free
        quotes = {SPAN_SOURCE: phrase_texts(report)} if context.get("report") else {}
        return report, TaskInstance(self.name, paper, f"Question: {question}",
                                    context={"question_id": "q", "question": question, "choices": (), **quotes})

    def instances(self, report: Report, questions: tuple = ()) -> list[TaskInstance]:
        """One instance per question; a free-text answer may quote the sections ``ground`` searches."""
        return [TaskInstance(self.name, f"{q.question}\n\nReport:\n{report.text}",
                             f"Question: {q.question}",
                             context={"question_id": q.id, "question": q.question, "choices": q.choices,
                                      **({} if q.choices else {SPAN_SOURCE: phrase_texts(report)})})
                for q in questions]

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        choices = instance.context.get("choices") if instance else ()
        if choices:
            return Decoding(max_tokens=max(len(c) for c in choices), grammar=literal_grammar(choices))
        source = span_source(instance)
        if source is None:
            return Decoding(max_tokens=ANSWER_TOKENS, stop=("\n",))
        return Decoding(max_tokens=QUOTE_CHARS, stop=("\n",), grammar=quote_grammar(source))

    def parse(self, raw: str) -> QaResult:
        return QaResult(answer=free_text(raw, "answer"))

    def rows(self, result: QaResult, instance: TaskInstance, report: Report) -> list[dict]:
        return [{**self.known_columns(instance, report), "answer": result.answer}]

    def known_columns(self, instance: TaskInstance, report: Report) -> dict:
        return {"question_id": instance.context["question_id"], "question": instance.context["question"]}

    def ground(self, result: QaResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """A free-text answer quoted from the report; a chosen answer (yes/no, a choice) or ``not stated``
        claims no span."""
        if instance.context.get("choices") or result.answer == NOT_STATED:
            return [None]
        return [find_phrase(report, result.answer)]

    def score(self, prediction: QaResult | None, reference: QaResult) -> float:
        return rouge_l(prediction.answer if prediction else "", reference.answer)

    def answer(self, result: QaResult) -> str:
        return result.answer
