"""N and M staging of oncologic cross-sectional studies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, Field

from radlite.columns import columns
from radlite.evidence import Evidence
from radlite.report import Report
from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    literal_grammar,
)
from radlite.tasks.table import ExportedValue, ReviewView, TaskTable, at_site
from radlite.text.sentences import sentence_bounds
from radlite.text.spans import finding_spans, matches_in
from radlite.text.tnm import stated_stages, written_prefix

_ONCOLOGY = re.compile(r"cancer|carcinoma|malignan|tumou?r|neoplas|metasta|lymphoma|sarcoma|oncolog|staging|"
                       r"melanoma|mass\b|lymphadenopathy", re.I)
N_STAGES, M_STAGES = ("N0", "N1", "N2", "N3"), ("M0", "M1")


def is_oncologic_cross_sectional(report: Report) -> bool:
    """CT, MR or PET reports that talk about a cancer: where N and M staging apply."""
    return report.modality in ("CT", "MR", "PET") and bool(_ONCOLOGY.search(report.text))


class StageResult(BaseModel):
    """An N or M stage: the report-level answer, or (``scope`` "site") the stage of one primary.

    A model's answer fills the stage. The rules also fill the prefix the report writes, the stage
    computed from the stated findings (``computed_*``, ``tnm_version``), the ``agreement`` of the
    stated and the computed stage, and ``sites``: one result per primary, with its ``site`` words, when
    the report stages two or more (radlite.rules.stages)."""

    n_stage: str | None = None
    m_stage: str | None = None
    scope: Literal["report", "site"] = "report"
    site: str | None = None
    stage_prefix: str | None = None
    computed_stage: str | None = None
    tnm_version: str | None = None
    agreement: Literal["agree", "disagree", "stated_only", "computed_only"] | None = None
    computed_reason: str | None = None
    computed_evidence_start: int | None = None
    computed_evidence_end: int | None = None
    sites: list[StageResult] = Field(default_factory=list)


def _parse_stage(raw: str, letter: str, highest: int, none_pattern: str) -> str:
    """``{letter}0``..``{letter}{highest}`` written as such, or stage 0 where ``none_pattern`` matches."""
    text = clean_output(raw)
    m = re.search(rf"\b{letter}\s?([0-{highest}])\b", text, re.I)
    if m:
        return f"{letter}{m.group(1)}"
    if re.search(none_pattern, text, re.I):
        return f"{letter}0"
    raise ParseError(f"no {letter} stage in {text[:80]!r}")


def parse_n_stage(raw: str) -> str:
    """N0-N3 from 'N2', 'N staging: N2', or the published prompt's 'Positive/Negative' lead-in."""
    return _parse_stage(raw, "N", 3, r"^\s*negative\b")


def parse_m_stage(raw: str) -> str:
    """M0-M1 from 'M1', or 'no (distant) metastasis'."""
    return _parse_stage(raw, "M", 1, r"\bno (distant )?metasta")


def stage_name(stage: str, prefix: str | None, evidence: str | None) -> str:
    """"pN" or "pM" when the stage ("N1") is written with a pathologic prefix (p, yp, rp: AJCC's pathologic
    classification, coded apart from the clinical one in LOINC); else "N" or "M". The prefix is the row's
    ``stage_prefix`` (the rules' stated stage), else the one its evidence writes (a model's row)."""
    prefix = prefix or written_prefix(evidence or "", stage)
    return ("p" if prefix and "p" in prefix else "") + stage[0]


def _exported(row: dict) -> list[ExportedValue]:
    return [ExportedValue(kind, stage_name(row[kind], row.get("stage_prefix"), row["evidence"]), row[kind], None)
            for kind in ("n_stage", "m_stage") if row[kind]]


STAGING_TABLE = TaskTable(
    "staging",
    "N and M stage per report, and per primary when a report stages several (n_staging, m_staging).",
    columns(
        ("n_stage", pa.string(), "N0, N1, N2 or N3 (n_staging rows); N+ on a rules row whose report states "
                                 "involved regional nodes but not what the site's N table needs."),
        ("m_stage", pa.string(), "M0 or M1 (m_staging rows)."),
        ("scope", pa.string(), "report: the report-level stage (the stage stated, or for a report staging several "
                               "primaries the highest N / M1 if any primary states M1; a model's answer); site: the "
                               "stage stated for one primary of a report that stages two or more."),
        ("site", pa.string(), "Site words of the primary a site row stages, as written in lower case ('right upper "
                              "lobe', 'left breast', 'primary 2 rectum'); null on report rows."),
        ("stage_prefix", pa.string(), "Prefix the report writes before the stated stage: c (clinical), p "
                                      "(pathological), yc / yp (after neoadjuvant therapy), r (recurrence); null when "
                                      "none is written or the stage is not stated."),
        ("computed_stage", pa.string(), "Stage computed from the stated findings (rules rows): N0-N3 by the primary "
                                        "site's N definition, N+ where nodes are stated involved but not what the "
                                        "site's table needs (count, side, size, region; computed_reason says which), "
                                        "M0 / M1; null when the findings leave it open (computed_reason says why)."),
        ("tnm_version", pa.string(), "Edition of the N definitions the computed N category follows ('AJCC 8th "
                                     "edition'); null when no site definition applied."),
        ("agreement", pa.string(), "Stated vs computed stage: agree (equal, or a stated N1-N3 and a computed N+), "
                                   "disagree, stated_only (no computed stage) or computed_only (the report states "
                                   "none: the stage is the computed one); null on a model's rows."),
        ("computed_reason", pa.string(), "What decided the computed stage ('stomach: 3 involved regional nodes -> "
                                         "N2') or what is missing for it."),
        ("computed_evidence_start", pa.int32(), "Offset in reports.text of the words the computed stage is read "
                                                "from."),
        ("computed_evidence_end", pa.int32(), "End offset (exclusive) of those words."),
        ("computed_evidence", pa.string(), "reports.text[computed_evidence_start:computed_evidence_end]."),
    ),
    evidence=True,
    review=ReviewView((), lambda r: at_site(r["task"], r), lambda r: r["n_stage"] or r["m_stage"] or "",
                      lambda r: "positive" if (r["n_stage"] or r["m_stage"]) else "not_mentioned",
                      optional_key=("site",)),
    export=_exported,
    fhir_titles={"n_stage": "N stage", "m_stage": "M stage"},
)


class _StagingTask(Task):
    """N or M staging: one stage field of the ``staging`` table, scored by exact match."""

    writes = STAGING_TABLE
    metric_name = "accuracy"
    classification = True
    stage_field = ""
    stages: tuple[str, ...] = ()
    #: The stage from raw output (parse_n_stage or parse_m_stage); raises ParseError.
    parse_stage: Callable[[str], str]
    #: N or M: which stated stages ground an answer (radlite.text.tnm); the words of the stage's topic.
    letter = ""
    topic: re.Pattern

    def skip_reason(self, report: Report) -> str | None:
        if report.modality not in ("CT", "MR", "PET"):
            return f"not a CT, MR or PET report (modality {report.modality})"
        return None if is_oncologic_cross_sectional(report) else "no cancer mentioned"

    def parse(self, raw: str) -> StageResult:
        return StageResult(**{self.stage_field: self.parse_stage(raw)})

    def score(self, prediction: StageResult | None, reference: StageResult) -> float:
        return float(prediction is not None
                     and getattr(prediction, self.stage_field) == getattr(reference, self.stage_field))

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=6, grammar=literal_grammar(self.stages))

    def answer(self, result: StageResult) -> str:
        return getattr(result, self.stage_field)

    def rows(self, result: StageResult, instance: TaskInstance, report: Report) -> list[dict]:
        """The report-level row, then one row per primary of ``result.sites`` (rules answers only), each
        with its computed evidence quoted from the report."""
        return [_row(r, report) for r in (result, *result.sites)]

    def ground(self, result: StageResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """The first stated stage it matches; else the sentence about nodes (N) or metastases (M)."""
        value = getattr(result, self.stage_field)
        stated = next((s.evidence for s in stated_stages(report, self.letter) if s.stage == value), None)
        if stated is not None:
            return [stated]
        for m in matches_in(report, self.topic, finding_spans(report)):
            return [Evidence(*sentence_bounds(report.text, m.start(), m.end(), lines=True))]
        return [Evidence()]


def _row(result: StageResult, report: Report) -> dict:
    row = result.model_dump(exclude={"sites"})
    start, end = result.computed_evidence_start, result.computed_evidence_end
    row["computed_evidence"] = report.text[start:end] if start is not None else None
    return row


class NStaging(_StagingTask):
    name = "n_staging"
    rules = "radlite.rules.answers:n_stage_answer"
    support_check = "radlite.evidence_support:n_stage_supported"
    stage_field = "n_stage"
    stages = N_STAGES
    parse_stage = staticmethod(parse_n_stage)
    letter = "N"
    topic = re.compile(r"lymph|nod(?:e|al)|adenopath", re.I)


class MStaging(_StagingTask):
    name = "m_staging"
    rules = "radlite.rules.answers:m_stage_answer"
    support_check = "radlite.evidence_support:m_stage_supported"
    stage_field = "m_stage"
    stages = M_STAGES
    parse_stage = staticmethod(parse_m_stage)
    letter = "M"
    topic = re.compile(r"metasta", re.I)
