"""The instruction record every converter produces, and how it becomes a prompt and a target."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from radlite.prompts import Prompt, render_prompt
from radlite.report import build_report
from radlite.tasks import TASKS, ParseError, TaskInstance
from radlite.tasks.base import SPAN_SOURCE
from radlite.text.spans import phrase_texts


class Tier(str, Enum):
    """Label quality, following the paper: expert, model/algorithm, LLM-assigned."""

    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"


class InstructionRecord(BaseModel):
    """One training or test example. ``input`` is what the published template's {report} slot holds
    for report tasks; NLI keeps premise/hypothesis and QA the question in ``context``."""

    id: str
    task: str
    input: str
    output: str
    source: str
    tier: Tier
    split: str = "train"
    context: dict[str, str] = Field(default_factory=dict)
    synthetic: bool = False
    #: The real report a record was made from: all of one report's records stay in one split, and a
    #: report on the fixed test list (--test-ids) only ever in the test split.
    report_key: str | None = None
    #: Abnormality records: per CheXpert label, the tier of its value. NegBio's gold makes a label gold
    #: only for "positive vs not" on the nine labels it covers; the rules give every other value.
    label_tiers: dict[str, Tier] = Field(default_factory=dict)


def record_instance(record: InstructionRecord):
    """(Report, TaskInstance) for a record, built the way the pipeline builds them."""
    task = TASKS[record.task]
    if record.task == "radiology_nli":
        report = build_report(record.source, record.id, f"FINDINGS: {record.context['premise']}")
        instance = TaskInstance(task.name, f"Premise: {record.context['premise']}\nHypothesis: "
                                f"{record.context['hypothesis']}", f"Hypothesis: {record.context['hypothesis']}",
                                context={"premise": record.context["premise"],
                                                  "hypothesis": record.context["hypothesis"], "index": 0})
        return report, instance
    if record.task == "radiology_qa":
        question = record.context.get("question", record.input)
        report_text = record.context.get("report") or "(no report)"
        report = build_report(record.source, record.id, report_text)
        paper = f"{question}\n\nReport:\n{record.context['report']}" if record.context.get("report") else question
        # with a report, the answer quotes it as in the pipeline (RadiologyQa.instances); without, it is free
        quotes = {SPAN_SOURCE: phrase_texts(report)} if record.context.get("report") else {}
        return report, TaskInstance(task.name, paper, f"Question: {question}",
                                    context={"question_id": "q", "question": question, "choices": (), **quotes})
    report = build_report(record.source, record.id, record.input)
    return report, task.instances(report)[0] if task.instances(report) else TaskInstance(task.name, record.input, "")


def record_prompt(record: InstructionRecord, profile: str) -> Prompt:
    report, instance = record_instance(record)
    return render_prompt(profile, TASKS[record.task], instance, report)


def valid_output(record: InstructionRecord) -> bool:
    """The target parses with its task's own parser (the paper's valid-label check)."""
    try:
        TASKS[record.task].parse(record.output)
    except (ParseError, ValueError, KeyError):
        return False
    return bool(record.output.strip())
