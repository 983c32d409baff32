"""SYNTHETIC corpus -> instruction records for all nine tasks (every record says synthetic=True)."""

from __future__ import annotations

from collections.abc import Iterator

from radlite.tasks import TASKS
from radlite.tasks.abnormality import AbnormalityResult
from radlite.tasks.ner import Entity, NerResult
from radlite.tasks.temporal import Change, TemporalResult
from radlite.text.sections import parse_sections
from training.data.records import InstructionRecord, Tier
from training.data.synthetic_reports import generate_reports


def _record(report, task: str, output: str, suffix: str = "", input_text: str | None = None,
            context: dict | None = None) -> InstructionRecord:
    return InstructionRecord(id=f"{report.report_id}:{task}{suffix}", task=task,
                             input=report.text if input_text is None else input_text, output=output,
                             source="synthetic", tier=Tier.SILVER, synthetic=True, context=context or {})


def synthetic_records(n_reports: int, seed: int = 42) -> Iterator[InstructionRecord]:
    """Records for every task a synthetic report has ground truth for."""
    for report in generate_reports(n_reports, seed=seed):
        truth, findings = report.truth, parse_sections(report.text).findings
        yield _record(report, "rads_assignment", truth["rads_assignment"])
        if "impression_generation" in truth:
            yield _record(report, "impression_generation", truth["impression_generation"], input_text=findings)
        for task in ("n_staging", "m_staging"):
            if task in truth:
                yield _record(report, task, truth[task])
        if "abnormality_detection" in truth:
            yield _record(report, "abnormality_detection",
                          TASKS["abnormality_detection"].answer(AbnormalityResult(labels=truth["abnormality_detection"])))
        if truth.get("temporal_comparison"):
            changes = TemporalResult(changes=[Change(finding=f, change=c)
                                              for f, c in truth["temporal_comparison"].items()])
            yield _record(report, "temporal_comparison", TASKS["temporal_comparison"].answer(changes))
        if truth.get("radiology_ner"):
            entities = NerResult(entities=[Entity(text=t, label=label) for t, label in truth["radiology_ner"]])
            yield _record(report, "radiology_ner", TASKS["radiology_ner"].answer(entities))
        for i, (hypothesis, label) in enumerate(truth.get("radiology_nli", [])):
            yield _record(report, "radiology_nli", label, suffix=f":{i}",
                          input_text=f"Premise: {findings}\nHypothesis: {hypothesis}",
                          context={"premise": findings, "hypothesis": hypothesis})
        for i, (question, answer) in enumerate(truth.get("radiology_qa", [])):
            yield _record(report, "radiology_qa", answer, suffix=f":{i}", input_text=question,
                          context={"question": question, "report": report.text})

