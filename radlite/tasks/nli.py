"""Radiology NLI as a consistency check: each impression sentence against the findings."""

from __future__ import annotations

import re

import pyarrow as pa
from pydantic import BaseModel

from radlite.columns import columns
from radlite.report import Report, build_report
from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    literal_grammar,
)
from radlite.tasks.table import TaskTable
from radlite.text.sentences import split_sentences

NLI_LABELS = ("entailment", "contradiction", "neutral")
_VARIANTS = {"entail": "entailment", "contradict": "contradiction", "neutral": "neutral"}

def impression_sentences(impression: str, limit: int = 4) -> list[str]:
    """Sentences of an impression (numbered lists too), at most ``limit``, each with letters."""
    return [p for p in split_sentences(impression, "items") if re.search(r"[A-Za-z]{3}", p)][:limit]


class NliResult(BaseModel):
    label: str


def parse_nli(raw: str) -> str:
    text = clean_output(raw).lower()
    hits = [(text.find(k), v) for k, v in _VARIANTS.items() if k in text]
    if not hits:
        raise ParseError(f"no NLI label in {text[:80]!r}")
    return min(hits)[1]


NLI_TABLE = TaskTable(
    "nli",
    "Impression sentence vs findings inference (radiology_nli).",
    columns(
        ("sentence_index", pa.int32(), "Index of the impression sentence used as hypothesis."),
        ("premise", pa.string(), "Findings text."),
        ("hypothesis", pa.string(), "Impression sentence."),
        ("label", pa.string(), "entailment, contradiction or neutral."),
    ),
    evidence=False,
)


class RadiologyNli(Task):
    name = "radiology_nli"
    writes = NLI_TABLE
    curation_weight = 3.0
    metric_name = "accuracy"

    def skip_reason(self, report: Report) -> str | None:
        if report.findings and report.impression and report.has_section_headers:
            return None
        return "needs headed findings and impression sections"

    def record_instance(self, source: str, record_id: str, text: str, context: dict[str, str]
                        ) -> tuple[Report, TaskInstance]:
        """A record keeps its premise and hypothesis in ``context``; the premise is the report's findings."""
        report = build_report(source, record_id, f"FINDINGS: {context['premise']}")
        premise, hypothesis = context["premise"], context["hypothesis"]
        return report, TaskInstance(self.name, f"Premise: {premise}\nHypothesis: {hypothesis}",
                                    f"Hypothesis: {hypothesis}",
                                    context={"premise": premise, "hypothesis": hypothesis, "index": 0})

    def instances(self, report: Report, questions: tuple = ()) -> list[TaskInstance]:
        return [
            TaskInstance(self.name, f"Premise: {report.findings}\nHypothesis: {sentence}",
                         f"Hypothesis: {sentence}",
                         context={"premise": report.findings, "hypothesis": sentence, "index": i})
            for i, sentence in enumerate(impression_sentences(report.impression))
        ]

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=10, grammar=literal_grammar(NLI_LABELS))

    def parse(self, raw: str) -> NliResult:
        return NliResult(label=parse_nli(raw))

    def rows(self, result: NliResult, instance: TaskInstance, report: Report) -> list[dict]:
        return [{**self.known_columns(instance, report), "label": result.label}]

    def known_columns(self, instance: TaskInstance, report: Report) -> dict:
        return {"sentence_index": instance.context["index"], "premise": instance.context["premise"],
                "hypothesis": instance.context["hypothesis"]}

    classification = True

    def score(self, prediction: NliResult | None, reference: NliResult) -> float:
        return float(prediction is not None and prediction.label == reference.label)

    def answer(self, result: NliResult) -> str:
        return result.label
