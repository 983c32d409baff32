"""14-label CheXpert abnormality detection for chest radiographs."""

from __future__ import annotations

import json
import re

import pyarrow as pa
from pydantic import BaseModel

from radlite.chexpert import label_report
from radlite.columns import columns
from radlite.evidence import Evidence
from radlite.report import Report
from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
)
from radlite.tasks.table import ExportedValue, ReviewView, TaskTable
from radlite.text.assertion import CHEXPERT_STATUS, STATUS_OF_CHEXPERT

CHEXPERT_LABELS = (
    "atelectasis", "cardiomegaly", "consolidation", "edema", "enlarged cardiomediastinum", "fracture",
    "lung lesion", "lung opacity", "pleural effusion", "pleural other", "pneumonia", "pneumothorax",
    "support devices", "no finding",
)
STATUSES = ("positive", "negative", "uncertain", "not_mentioned")
_LIST_KEYS = ("positive", "uncertain", "negative")


def ordered_object_grammar(keys: tuple[str, ...], values: tuple[str, ...]) -> str:
    """GBNF for a JSON object holding any subset of ``keys``, each at most once, in the given order.

    The order makes repeats impossible and bounds the answer at len(keys) entries, so a token
    budget can always fit a complete (hence parseable) answer.
    """
    lines = ['root ::= "{" r0? "}"', "value ::= " + " | ".join(f'"\\"{v}\\""' for v in values)]
    for i, key in enumerate(keys):
        entry = f'"\\"{key}\\":" value'
        rest = f' ("," r{i + 1})?' if i + 1 < len(keys) else ""
        alt = f" | r{i + 1}" if i + 1 < len(keys) else ""
        lines.append(f"r{i} ::= {entry}{rest}{alt}")
    return "\n".join(lines) + "\n"


ANSWER_GRAMMAR = ordered_object_grammar(CHEXPERT_LABELS, ("positive", "negative", "uncertain"))
#: Characters of the longest answer ANSWER_GRAMMAR accepts; a token covers at least one character.
ANSWER_MAX_CHARS = 2 + sum(len(f'"{k}":"uncertain",') for k in CHEXPERT_LABELS)


class AbnormalityResult(BaseModel):
    labels: dict[str, str]


def _from_lists(obj: dict) -> dict[str, str]:
    labels = {name: "not_mentioned" for name in CHEXPERT_LABELS}
    for status in ("negative", "uncertain", "positive"):  # positive wins over a contradictory listing
        for name in obj.get(status, []) or []:
            key = str(name).lower().replace("_", " ").strip()
            if key in labels:
                labels[key] = status
    return labels


def _from_text(text: str) -> dict[str, str]:
    """'label: status' pairs in free text, as the published models write them."""
    labels = {name: "not_mentioned" for name in CHEXPERT_LABELS}
    found = False
    for name in CHEXPERT_LABELS:
        m = re.search(rf"{re.escape(name)}\s*[:=\-]\s*(positive|negative|uncertain|present|absent)", text, re.I)
        if m:
            value = m.group(1).lower()
            labels[name] = CHEXPERT_STATUS.get(value, value)
            found = True
    if not found:
        raise ParseError(f"no abnormality labels in {text[:80]!r}")
    return labels


def parse_abnormalities(raw: str) -> AbnormalityResult:
    text = clean_output(raw)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return AbnormalityResult(labels=_from_text(text))
    if isinstance(obj, dict) and any(k in obj for k in _LIST_KEYS):
        return AbnormalityResult(labels=_from_lists(obj))
    if isinstance(obj, dict):
        labels = {name: "not_mentioned" for name in CHEXPERT_LABELS}
        for key, value in obj.items():
            name, status = str(key).lower().replace("_", " "), str(value).lower()
            if name not in labels or status not in STATUSES:
                raise ParseError(f"unknown label or status {key!r}: {value!r}")
            labels[name] = status
        return AbnormalityResult(labels=labels)
    raise ParseError(f"unexpected JSON {text[:80]!r}")


def is_chest_radiograph(report: Report) -> bool:
    return report.modality == "XR" and report.body_region == "chest"


#: abnormalities.status -> assertion.
STATUS_ASSERTION = STATUS_OF_CHEXPERT


def _exported(row: dict) -> list[ExportedValue]:
    assertion = STATUS_ASSERTION.get(row["status"])
    return [ExportedValue("chexpert", row["finding"], row["status"], assertion)] if assertion else []


ABNORMALITIES_TABLE = TaskTable(
    "abnormalities",
    "14 CheXpert labels per chest radiograph (abnormality_detection).",
    columns(
        ("finding", pa.string(), "One of the 14 CheXpert observations."),
        ("status", pa.string(), "positive, negative, uncertain or not_mentioned."),
    ),
    evidence=True,
    review=ReviewView(("finding",), lambda r: r["finding"], lambda r: r["status"], lambda r: r["status"]),
    export=_exported,
    fhir_titles={"chexpert": "{name}"},
)


class AbnormalityDetection(Task):
    name = "abnormality_detection"
    writes = ABNORMALITIES_TABLE
    rules = "radlite.rules.answers:abnormalities_answer"
    nothing_stated = "radlite.rules.answers:no_abnormalities_answer"
    support_check = "radlite.evidence_support:abnormality_supported"
    metric_name = "per_label_accuracy"

    def skip_reason(self, report: Report) -> str | None:
        if is_chest_radiograph(report):
            return None
        return (f"not a chest radiograph (modality {report.modality}, region {report.body_region}; "
                "--modality or --exam-column tell it for exports without an exam line)")

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=ANSWER_MAX_CHARS, grammar=ANSWER_GRAMMAR)

    def parse(self, raw: str) -> AbnormalityResult:
        return parse_abnormalities(raw)

    def rows(self, result: AbnormalityResult, instance, report) -> list[dict]:
        return [{"finding": name, "status": status} for name, status in result.labels.items()]

    def score(self, prediction: AbnormalityResult | None, reference: AbnormalityResult) -> float:
        """Share of the 14 labels right; averaged over samples it is the per-label accuracy."""
        if prediction is None:
            return 0.0
        return sum(prediction.labels[n] == reference.labels[n] for n in CHEXPERT_LABELS) / len(CHEXPERT_LABELS)

    def ground(self, result: AbnormalityResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """Per label row the report's mention of that label (the rules' deciding mention); none for
        labels not mentioned."""
        mentions = label_report(report)
        evidence: list[Evidence | None] = []
        for name, status in result.labels.items():
            found = mentions.get(name)
            evidence.append(None if status == "not_mentioned" else Evidence(found.start, found.end) if found
                            else Evidence())
        return evidence

    def answer(self, result: AbnormalityResult) -> str:
        """Mentioned labels only, in canonical order, as ANSWER_GRAMMAR admits."""
        return json.dumps({n: s for n in CHEXPERT_LABELS if (s := result.labels[n]) != "not_mentioned"},
                          separators=(",", ":"))
