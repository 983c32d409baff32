"""Impression generation from the findings, scored against the report's own impression."""

from __future__ import annotations

import pyarrow as pa
from pydantic import BaseModel

from radlite.columns import columns
from radlite.report import Report
from radlite.tasks.base import (
    Decoding,
    Task,
    TaskInstance,
    free_text,
    rouge_l,
)
from radlite.tasks.table import TaskTable
from radlite.text.sections import section_start


class ImpressionResult(BaseModel):
    generated: str


IMPRESSIONS_TABLE = TaskTable(
    "impressions",
    "Generated impression per report (impression_generation).",
    columns(
        ("generated", pa.string(), "Generated impression."),
        ("reference", pa.string(), "The report's own impression, when it has one."),
        ("rouge_l", pa.float64(), "ROUGE-L F1 of generated against the report's own impression."),
    ),
    evidence=False,
)


class ImpressionGeneration(Task):
    name = "impression_generation"
    writes = IMPRESSIONS_TABLE
    rules = "radlite.rules.answers:impression_answer"
    curation_weight = 1.5
    curation_cap = 30_000
    metric_name = "rouge_l"

    def skip_reason(self, report: Report) -> str | None:
        return None if report.findings else "no findings to summarise"

    def input_text(self, report: Report) -> str:
        return report.findings

    def visible_text(self, report: Report) -> str:
        """The report up to its own impression, which must not be visible; being a prefix of the
        full text, the other tasks reuse it when this task runs first."""
        cut = section_start(report.text, "impression")
        return report.text if cut is None else report.text[:cut].rstrip()

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        # An impression is shorter than its findings: budget about half the findings' tokens (~4 chars each).
        findings_chars = len(instance.input_text) if instance else 256
        return Decoding(max_tokens=max(16, min(64, findings_chars // 8)), stop=("\n\n",))

    def parse(self, raw: str) -> ImpressionResult:
        return ImpressionResult(generated=free_text(raw, "impression"))

    def rows(self, result: ImpressionResult, instance: TaskInstance, report: Report) -> list[dict]:
        reference = report.impression or None
        return [{"generated": result.generated, "reference": reference,
                 "rouge_l": rouge_l(result.generated, reference) if reference else None}]

    def known_columns(self, instance: TaskInstance, report: Report) -> dict:
        return {"reference": report.impression or None}

    def score(self, prediction: ImpressionResult | None, reference: ImpressionResult) -> float:
        return rouge_l(prediction.generated if prediction else "", reference.generated)

    def answer(self, result: ImpressionResult) -> str:
        return result.generated
