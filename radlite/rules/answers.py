"""Rule extractors as a model kind: values the report states, read off the text with their spans.

A routing entry ``kind: rules`` runs these instead of a language model; each task names its
extractor here (``Task.rules``) and its "nothing stated" answer (``Task.nothing_stated``). They answer what a report
states (a RADS category, a TNM stage, CheXpert findings with negation and uncertainty, temporal
change cues, a chest radiograph's abnormal findings sentences as its impression, RadGraph entities) and nothing else:
where the report states nothing, they give no answer and a cascade (``[rules, model]``) asks the
next entry. Every row they write is grounded by construction and
carries ``model_id = radlite-rules@<version>+<sha256 of the modules the rules import>``
(radlite.rules.fingerprint), so a change to a phrase table is visible in the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from pydantic import BaseModel

from radlite import chexpert
from radlite.evidence import Evidence
from radlite.report import Report
from radlite.rules import (
    entities,
    impression,
    rads,
    stages,
    temporal,
)
from radlite.rules.fingerprint import rule_tables_sha256
from radlite.tasks import TASKS, TaskInstance
from radlite.tasks.abnormality import CHEXPERT_LABELS, AbnormalityResult
from radlite.tasks.base import Task, resolve_hook
from radlite.tasks.impression import ImpressionResult
from radlite.tasks.ner import Entity, NerResult
from radlite.tasks.table import DerivedMapping
from radlite.tasks.temporal import TemporalResult

RULES_VERSION = "1"


class RuleAnswer(NamedTuple):
    """A rule's answer: the typed result, its text in the task's answer format, the evidence per row."""

    result: BaseModel
    raw: str
    evidence: list[Evidence | None]


def _answer(task_name: str, result: BaseModel, evidence: list[Evidence | None]) -> RuleAnswer:
    return RuleAnswer(result, TASKS[task_name].answer(result), evidence)


def rads_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    assessed = rads.assessed_rads(report)
    return _answer("rads_assignment", assessed[0], assessed[1]) if assessed else None


def n_stage_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    """The stated N stage (per primary where two are staged) beside the N its node facts compute by
    primary site; else the computed N (N0-N3, or N+ where the site's table needs what is not stated)."""
    found = stages.staged(report, "N")
    return _answer("n_staging", *found) if found else None


def m_stage_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    """The stated M stage (per primary where two are staged) beside M0/M1 computed from what the report
    states about distant metastasis; else the computed M."""
    found = stages.staged(report, "M")
    return _answer("m_staging", *found) if found else None


def abnormalities_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    mentions = chexpert.label_report(report)
    if all(m is None for m in mentions.values()):
        return None
    labels = {name: mentions[name].status if mentions[name] else "not_mentioned" for name in CHEXPERT_LABELS}
    evidence = [Evidence(m.start, m.end) if (m := mentions[name]) else None for name in CHEXPERT_LABELS]
    return _answer("abnormality_detection", AbnormalityResult(labels=labels), evidence)


def changes_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    stated = temporal.stated_changes(report)
    return _answer("temporal_comparison", stated[0], stated[1]) if stated else None


def impression_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    generated = impression.extractive_impression(report)
    return _answer("impression_generation", ImpressionResult(generated=generated), [None]) if generated else None


def entities_answer(report: Report, instance: TaskInstance) -> RuleAnswer | None:
    """RadGraph entities: observations labelled by the assertion engine, anatomy from a lexicon."""
    found = entities.report_entities(report)
    if not found:
        return None
    result = NerResult(entities=[Entity(text=report.text[f.start:f.end], label=f.label) for f in found])
    return _answer("radiology_ner", result, [Evidence(f.start, f.end) for f in found])


#: The tasks the rules can answer (task -> Task): every registered task that names a rule extractor.
RULE_TASKS: Mapping[str, Task] = DerivedMapping(lambda: {name: t for name, t in TASKS.items() if t.rules is not None})


def rules_model_id() -> str:
    return f"radlite-rules@{RULES_VERSION}+{rule_tables_sha256()[:12]}"


def no_rads_answer(report: Report) -> RuleAnswer:
    """No RADS, carrying the reason a formula that applied left the category open (rads.unassessed)."""
    return _answer("rads_assignment", rads.unassessed(report), [None])


def no_abnormalities_answer(report: Report) -> RuleAnswer:
    return _answer("abnormality_detection", AbnormalityResult(labels=dict.fromkeys(CHEXPERT_LABELS, "not_mentioned")),
                   [None] * len(CHEXPERT_LABELS))


def no_changes_answer(report: Report) -> RuleAnswer:
    return _answer("temporal_comparison", TemporalResult(changes=[]), [])


def no_entities_answer(report: Report) -> RuleAnswer:
    return _answer("radiology_ner", NerResult(entities=[]), [])


def rule_answer(report: Report, instance: TaskInstance, last: bool = False) -> RuleAnswer | None:
    """The rules' answer for one task instance. None when the report states nothing they can read,
    unless they are the ``last`` entry of the task's route: then "nothing stated" is the answer where
    it is one (the task's ``nothing_stated``: no RADS, no finding mentioned, no change), and still None
    for a stage."""
    task = TASKS.get(instance.task)
    extractor = resolve_hook(task.rules) if task else None
    answer = extractor(report, instance) if extractor else None
    nothing_stated = resolve_hook(task.nothing_stated) if task and last else None
    if answer is None and nothing_stated:
        return nothing_stated(report)
    return answer


def rules_prompt_id(task: str) -> str:
    return f"rules/{task}@{RULES_VERSION}"
