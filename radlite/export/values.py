"""What an export carries: OUT's current reports and their structured values, as typed records.

FHIR and OMOP exports both start here, so a value means the same thing in both: one
``StructuredValue`` per value a task table's declaration exports (radlite.tasks.table.TaskTable.export):
per RADS category, N or M stage, CheXpert finding (not_mentioned left out:
the report says nothing), temporal change and entity, each with its assertion, evidence offsets
and provenance. Only valid rows become values, and only published ones: a withheld row
(radlite.withholding) is left out unless ``include_withheld``, which exports it with its
``withheld_reason`` for the format to mark (docs/standards.md). Each value carries its calibrated
``confidence`` (radlite.confidence) for the format to say. A report that assesses several
sites (RADS) or stages several primaries (N, M) gives its report-level value and one value per
site, which carries the site.

``since``: only reports with a row (the report or any value) from a run committed after that run
are exported, each with all its current values, so a receiver replaces whole reports.

What both formats say of a report is decided here once: its status (``report_status``), its exam
title (``exam_title``), its version (``ExportData.versions``) and its date (``report_date``).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from radlite.store import OutputStore, run_started
from radlite.tasks import task_tables

CODES_CSV = os.path.join(os.path.dirname(__file__), "codes.csv")
#: reports.result_status values (the HL7 reader's words for OBR-25, radlite.io.hl7.RESULT_STATUS) are FHIR R4
#: DiagnosticReport.status codes (hl7.org/fhir/R4/valueset-diagnostic-report-status.html), exported as they are.
RESULT_STATUSES = ("registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled",
                   "entered-in-error")


class ExportError(ValueError):
    """An export that cannot be written (unknown --since run, bad concept map); the message says why."""


@dataclass(frozen=True)
class Coding:
    """One row of codes.csv: a standard code for a kind of value, and where it comes from."""

    system: str
    code: str
    display: str
    source: str


@cache
def codes() -> dict[tuple[str, str], Coding]:
    """(kind, name) -> Coding, from the checked-in, cited table codes.csv."""
    with open(CODES_CSV, newline="") as fh:
        return {(r["kind"], r["name"]): Coding(r["system"], r["code"], r["display"], r["source"])
                for r in csv.DictReader(fh)}


@dataclass(frozen=True)
class StructuredValue:
    """One exported value of one report.

    kind: rads, n_stage, m_stage, chexpert, temporal_change or entity; name: what it is about
    (RADS system, N/M, finding, entity label); value: the answer (category, stage, status, change,
    entity text); assertion: present, absent or uncertain (None: not an assertion, e.g. a stage);
    site: the site, side, lesion or primary of a per-site RADS or stage row (None: a report-level value).
    """

    key: str
    report_id: str
    kind: str
    name: str
    value: str
    assertion: str | None
    evidence_start: int | None
    evidence_end: int | None
    evidence: str | None
    grounded: bool | None
    task: str
    site: str | None
    model_id: str
    prompt_id: str
    prompt_sha256: str
    run_id: str
    #: Why the value is withheld (None: published); set only in an export with include_withheld.
    withheld_reason: str | None = None
    #: Calibrated probability that the value is right (radlite.confidence; None: not measured)
    confidence: float | None = None


@dataclass(frozen=True)
class ExportData:
    """Current reports (rows of ``reports``), their values, each report's version, the last run included.

    versions: report_id -> the number of its current text (1: the first text committed; each change of
    text in commit order adds one).
    """

    reports: list[dict]
    values: list[StructuredValue]
    versions: dict[str, int]
    through_run: str | None

    def version(self, report_id: str) -> int:
        return self.versions.get(report_id, 1)


def report_status(report: dict, version: int) -> str:
    """The report's status in both exports: the source's result status when it sent one, else ``final``
    for a first text and ``amended`` for a later one. A status outside RESULT_STATUSES is ``unknown``."""
    status = report.get("result_status")
    if status is None:
        return "amended" if version > 1 else "final"
    return status if status in RESULT_STATUSES else "unknown"


def exam_title(report: dict) -> str:
    """The exam as the source named it (``examination``), else modality and region as inferred, else the
    report code's display (FHIR code.text and OMOP note_title both use it)."""
    inferred = " ".join(p for p in (report["modality"], report["body_region"]) if p and p != "unknown")
    return report.get("examination") or inferred or codes()[("report", "diagnostic_report")].display


@dataclass(frozen=True)
class ReportDate:
    """A report's date in both exports. study: the study date (and time) the source gave, None when it gave
    none or an unreadable one; day: the study's day, else the day radlite accepted the report (the one
    rule for a date a format requires: OMOP NOTE.note_date)."""

    study: datetime | None
    day: date


def report_date(report: dict) -> ReportDate:
    """The study date from ``study_date`` (ISO date, optionally with a time), else the acceptance day."""
    try:
        study = datetime.fromisoformat(report["study_date"]).replace(tzinfo=None)
    except (TypeError, ValueError):
        study = None
    return ReportDate(study=study, day=study.date() if study else run_started(report["run_id"]).date())


def load(store: OutputStore, since: str | None = None, include_withheld: bool = False) -> ExportData:
    """The reports and values to export from ``store``; ``since`` a committed run id (ExportError otherwise);
    withheld values only with ``include_withheld``."""
    runs = store.manifest().runs
    if since is not None and since not in runs:
        raise ExportError(f"--since {since}: no such committed run in {store.root}")
    later = set(runs[runs.index(since) + 1:]) if since is not None else set(runs)
    reports = store.read_table("reports").to_pylist()
    values: list[StructuredValue] = []
    changed = {r["report_id"] for r in reports if r["run_id"] in later}
    seen: set[tuple[str, str]] = set()
    for table, declared in task_tables().items():
        if declared.export is None:
            continue
        for row in store.read_table(table, include_withheld=include_withheld).to_pylist():
            if not row["valid"]:
                continue
            if row["run_id"] in later:
                changed.add(row["report_id"])
            site = row.get("site") if row.get("scope") == "site" else None
            for kind, name, value, assertion in declared.export(row):
                key = f"{table}:{row['task']}:{name}:{value}:{row['evidence_start']}:{row.get('entity_index')}"
                if site is not None:  # a per-site value beside the report-level one: never the same claim
                    key += f":site={site}"
                if (row["report_id"], key) in seen:
                    continue  # the same claim twice (same words, same place): one value
                seen.add((row["report_id"], key))
                values.append(StructuredValue(
                    key=key,
                    report_id=row["report_id"], kind=kind, name=name, value=value, assertion=assertion,
                    evidence_start=row["evidence_start"], evidence_end=row["evidence_end"],
                    evidence=row["evidence"], grounded=row["grounded"], task=row["task"], site=site,
                    model_id=row["model_id"], prompt_id=row["prompt_id"], prompt_sha256=row["prompt_sha256"],
                    run_id=row["run_id"], withheld_reason=row["withheld_reason"] if row["withheld"] else None,
                    confidence=row.get("confidence")))
    history = store.read_table("reports", ["report_id", "text_sha256", "run_id"], history=True).to_pylist()
    return ExportData(
        reports=sorted((r for r in reports if r["report_id"] in changed), key=lambda r: r["report_id"]),
        values=sorted((v for v in values if v.report_id in changed), key=lambda v: (v.report_id, v.key)),
        versions=text_versions(history, runs),
        through_run=runs[-1] if runs else None)


def text_versions(history: list[dict], runs: list[str]) -> dict[str, int]:
    """report_id -> number of its latest text: rows taken in commit order, one more at each change of text
    (a text sent again unchanged is the same version)."""
    order = {run: i for i, run in enumerate(runs)}
    versions: dict[str, int] = {}
    last: dict[str, str] = {}
    for row in sorted(history, key=lambda r: order.get(r["run_id"], -1)):
        rid = row["report_id"]
        if last.get(rid) != row["text_sha256"]:
            versions[rid] = versions.get(rid, 0) + 1
            last[rid] = row["text_sha256"]
    return versions
