"""The instruction record every converter produces, and how it becomes a prompt and a target."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from radlite.prompts import Prompt, render_prompt
from radlite.tasks import TASKS, ParseError


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
    """(Report, TaskInstance) for a record, built the way the pipeline builds them (Task.record_instance)."""
    return TASKS[record.task].record_instance(record.source, record.id, record.input, record.context)


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
