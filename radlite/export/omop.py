"""OMOP CDM v5.4 export: NOTE (one row per report) and NOTE_NLP (one row per structured value), with the
columns and types of the checked-in spec omop_cdm54.yaml, as Parquet and CSV.

Concept ids are 0 (no vocabulary at hand) unless ``concept_map`` names a site's Athena ``CONCEPT.csv``:
then each value whose codes.csv code (SNOMED CT, LOINC) is in it gets that concept id, and every NOTE
gets the concept of the report's own code (LOINC 18748-4) as note_class_concept_id. The value's code
is always in ``term_modifiers`` (``code=SNOMED:60046008``), so a site can also join later.

Ids come from OUT's id map (radlite.export.ids): given once, the same in every later export.
``note_source_value`` keeps report_id (with the text's version and status) for joins back to OUT.
"""

from __future__ import annotations

import csv
import os

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from radlite.export.ids import IdMap, value_key
from radlite.export.values import (
    ExportData,
    ExportError,
    StructuredValue,
    codes,
    exam_title,
    report_date,
    report_status,
    run_started,
)
from radlite.withholding import reason_code

SPEC_PATH = os.path.join(os.path.dirname(__file__), "omop_cdm54.yaml")
_ARROW_TYPES = {"integer": pa.int32(), "date": pa.date32(), "datetime": pa.timestamp("us")}
#: codes.csv system -> OMOP vocabulary_id.
VOCABULARIES = {"http://snomed.info/sct": "SNOMED", "http://loinc.org": "LOINC"}
#: assertion -> term_exists. CDM: uncertain, negated (and conditional, other subject) make term_exists N.
TERM_EXISTS = {"present": "Y", "absent": "N", "uncertain": "N"}
TABLES = ("note", "note_nlp")


def spec() -> dict[str, list[dict]]:
    """Table -> its columns as omop_cdm54.yaml lists them (name, type, required)."""
    with open(SPEC_PATH) as fh:
        return yaml.safe_load(fh)


def arrow_type(cdm_type: str) -> pa.DataType:
    return pa.string() if cdm_type.startswith("varchar") else _ARROW_TYPES[cdm_type]


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(c["name"], arrow_type(c["type"]), nullable=not c["required"]) for c in spec()[table]])


def load_concept_map(path: str) -> dict[tuple[str, str], int]:
    """(vocabulary_id, concept_code) -> concept_id from an Athena CONCEPT.csv (tab- or comma-separated)."""
    with open(path, newline="", encoding="utf-8") as fh:
        header = fh.readline()
        fh.seek(0)
        rows = csv.DictReader(fh, delimiter="\t" if "\t" in header else ",")
        missing = {"concept_id", "vocabulary_id", "concept_code"} - set(rows.fieldnames or [])
        if missing:
            raise ExportError(f"--concept-map {path}: no column {', '.join(sorted(missing))} (Athena CONCEPT.csv)")
        try:
            return {(r["vocabulary_id"], r["concept_code"]): int(r["concept_id"]) for r in rows}
        except ValueError as exc:
            raise ExportError(f"--concept-map {path}: {exc}") from None


def _code(value: StructuredValue) -> tuple[str, str] | None:
    """(vocabulary_id, concept_code) of the value's standard code, when codes.csv has one."""
    kind = "stage" if value.kind in ("n_stage", "m_stage") else value.kind
    found = codes().get((kind, value.name))
    return (VOCABULARIES[found.system], found.code) if found and found.system in VOCABULARIES else None


def _modifiers(value: StructuredValue, code: tuple[str, str] | None, version: int, status: str) -> str:
    """CDM-style ``key=value`` list: the value's confidence (NOTE_NLP has no column for it), uncertain,
    historical, value (and site), evidence span, the code, the report version and status it was read from,
    and the source."""
    parts = [f"uncertain={str(value.assertion == 'uncertain').lower()}",
             f"historical={str(value.kind == 'temporal_change' and value.value == 'resolved').lower()}",
             f"kind={value.kind}", f"name={value.name}", f"value={value.value}"]
    if value.site:
        parts.append(f"site={value.site}")
    if value.evidence_start is not None:
        parts.append(f"span={value.evidence_start}-{value.evidence_end}")
    if value.grounded is not None:
        parts.append(f"grounded={str(value.grounded).lower()}")
    if code:
        parts.append(f"code={code[0]}:{code[1]}")
    parts += [f"report_version={version}", f"report_status={status}", f"prompt_sha256={value.prompt_sha256}"]
    parts.append(f"run_id={value.run_id}")
    if value.confidence is not None:  # NOTE_NLP has no confidence column: up front, never cut
        parts.insert(0, f"confidence={value.confidence:.4g}")
    if value.withheld_reason:  # first, so the 2000-character cut never loses it
        parts.insert(0, f"withheld={reason_code(value.withheld_reason)}")
    return ", ".join(parts)[:2000]


def _term_exists(value: StructuredValue) -> str | None:
    """Y / N by the value's assertion (None: not an assertion); a withheld value is N: a query counting
    what exists never counts it."""
    if value.withheld_reason:
        return "N"
    return TERM_EXISTS.get(value.assertion, "Y") if value.assertion else None


def _report_code() -> tuple[str, str]:
    """(vocabulary_id, concept_code) of the report itself (codes.csv: LOINC 18748-4)."""
    found = codes()[("report", "diagnostic_report")]
    return VOCABULARIES[found.system], found.code


def source_value(report_id: str, version: int, status: str) -> str:
    """NOTE.note_source_value: the report, the version of its text and its status (``;``-separated, within
    the CDM's 50 characters)."""
    return f"{report_id};version={version};status={status}"[:50]


def _note(report: dict, data: ExportData, ids: IdMap, note_class: int) -> dict:
    """One NOTE row. note_date: the study date, else the day radlite accepted the report (the CDM requires
    a date); note_datetime only from a study date (midnight when it has no time), so null marks the rule."""
    when = report_date(report)
    version = data.version(report["report_id"])
    return {
        "note_id": ids.get("note", report["report_id"]),
        "person_id": ids.get("person", report["patient_id"]) if report["patient_id"] else 0,
        "note_date": when.day, "note_datetime": when.study, "note_type_concept_id": 0,
        "note_class_concept_id": note_class, "note_title": exam_title(report)[:250], "note_text": report["text"],
        "encoding_concept_id": 0, "language_concept_id": 0, "provider_id": None, "visit_occurrence_id": None,
        "visit_detail_id": None,
        "note_source_value": source_value(report["report_id"], version, report_status(report, version)),
        "note_event_id": None, "note_event_field_concept_id": None}


def tables(data: ExportData, ids: IdMap, concept_map: dict[tuple[str, str], int] | None = None
           ) -> dict[str, pa.Table]:
    """NOTE and NOTE_NLP as Arrow tables with the CDM v5.4 schema; ids from ``ids`` (assign_ids)."""
    concept_map = concept_map or {}
    note_class = concept_map.get(_report_code(), 0)
    notes = [_note(r, data, ids, note_class) for r in data.reports]
    report_of = {r["report_id"]: r for r in data.reports}
    nlp = []
    for v in data.values:
        code = _code(v)
        concept = concept_map.get(code, 0) if code else 0
        words = v.evidence or v.value or v.name
        start, end = v.evidence_start, v.evidence_end
        snippet = None
        report = report_of[v.report_id]
        if start is not None and end is not None:
            snippet = report["text"][max(0, start - 60):end + 60].replace("\n", " ")[:250]
        when = run_started(v.run_id)
        version = data.version(v.report_id)
        nlp.append({
            "note_nlp_id": ids.get("note_nlp", value_key(v.report_id, v.key)), "note_id": ids.get("note", v.report_id),
            "section_concept_id": 0, "snippet": snippet, "offset": None if start is None else str(start),
            "lexical_variant": words[:250], "note_nlp_concept_id": concept, "note_nlp_source_concept_id": concept,
            "nlp_system": v.model_id[:250], "nlp_date": when.date(), "nlp_datetime": when,
            "term_exists": _term_exists(v),
            "term_temporal": "past" if v.kind == "temporal_change" and v.value == "resolved" else "present",
            "term_modifiers": _modifiers(v, code, version, report_status(report, version))})
    return {"note": pa.Table.from_pylist(notes, schema=arrow_schema("note")),
            "note_nlp": pa.Table.from_pylist(nlp, schema=arrow_schema("note_nlp"))}


def write_tables(data: ExportData, ids: IdMap, directory: str,
                 concept_map: dict[tuple[str, str], int] | None = None) -> dict[str, int]:
    """``note.parquet``, ``note.csv``, ``note_nlp.parquet``, ``note_nlp.csv`` in ``directory``; returns row counts."""
    counts = {}
    for name, table in tables(data, ids, concept_map).items():
        pq.write_table(table, os.path.join(directory, f"{name}.parquet"))
        pacsv.write_csv(table, os.path.join(directory, f"{name}.csv"))
        counts[name] = table.num_rows
    return counts
