"""OMOP CDM v5.4 export: NOTE (one row per report) and NOTE_NLP (one row per structured value), with the
columns and types of the checked-in spec omop_cdm54.yaml, as Parquet and CSV.

Concept ids are 0 (no vocabulary at hand) unless ``concept_map`` names a site's Athena ``CONCEPT.csv``:
then each value whose codes.csv code (SNOMED CT, LOINC) is in it gets that concept id. The code
itself is always in ``term_modifiers`` (``code=SNOMED:60046008``), so a site can also join later.

Ids: CDM v5.4 ids are 32-bit integers. note_id and note_nlp_id are 31-bit hashes of report_id (and
the value's key), made unique within an export by taking the next free number; person_id is a
31-bit hash of the patient id (0: none). ``note_source_value`` keeps report_id for joins back to OUT.
"""

from __future__ import annotations

import csv
import hashlib
import os
from datetime import date, datetime

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from radlite.export.values import ExportData, ExportError, StructuredValue, codes

SPEC_PATH = os.path.join(os.path.dirname(__file__), "omop_cdm54.yaml")
_ARROW_TYPES = {"integer": pa.int32(), "bigint": pa.int64(), "date": pa.date32(), "datetime": pa.timestamp("us")}
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


def _id31(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:4], "big") & 0x7FFFFFFF or 1


def _unique_ids(keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    """A 31-bit id per key, the hash's or the next free one after it (keys taken in sorted order)."""
    taken: set[int] = set()
    ids = {}
    for key in sorted(keys):
        number = _id31(*key)
        while number in taken:
            number = number % 0x7FFFFFFF + 1
        taken.add(number)
        ids[key] = number
    return ids


def _run_time(run_id: str) -> datetime:
    return datetime.strptime(run_id.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ")


def _study_date(report: dict) -> date:
    """The study date, else the date of the run that accepted the report (NOTE.note_date is required)."""
    try:
        return date.fromisoformat(report["study_date"][:10])
    except (TypeError, ValueError):
        return _run_time(report["run_id"]).date()


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


def _modifiers(value: StructuredValue, code: tuple[str, str] | None) -> str:
    """CDM-style ``key=value`` list: uncertain, historical, value (and site), evidence span, the code and the
    source."""
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
    parts.append(f"prompt_sha256={value.prompt_sha256}")
    parts.append(f"run_id={value.run_id}")
    return ", ".join(parts)[:2000]


def tables(data: ExportData, concept_map: dict[tuple[str, str], int] | None = None) -> dict[str, pa.Table]:
    """NOTE and NOTE_NLP as Arrow tables with the CDM v5.4 schema."""
    note_ids = _unique_ids([(r["report_id"],) for r in data.reports])
    nlp_ids = _unique_ids([(v.report_id, v.key) for v in data.values])
    notes = [{
        "note_id": note_ids[(r["report_id"],)], "person_id": _id31(r["patient_id"]) if r["patient_id"] else 0,
        "note_date": _study_date(r), "note_datetime": None, "note_type_concept_id": 0, "note_class_concept_id": 0,
        "note_title": (r["examination"] or f"{r['modality']} {r['body_region']}")[:250], "note_text": r["text"],
        "encoding_concept_id": 0, "language_concept_id": 0, "provider_id": None, "visit_occurrence_id": None,
        "visit_detail_id": None, "note_source_value": r["report_id"], "note_event_id": None,
        "note_event_field_concept_id": None} for r in data.reports]
    text_of = {r["report_id"]: r["text"] for r in data.reports}
    nlp = []
    for v in data.values:
        code = _code(v)
        concept = (concept_map or {}).get(code, 0) if code else 0
        words = v.evidence or v.value or v.name
        start, end = v.evidence_start, v.evidence_end
        snippet = None
        if start is not None and end is not None:
            text = text_of[v.report_id]
            snippet = text[max(0, start - 60):end + 60].replace("\n", " ")[:250]
        when = _run_time(v.run_id)
        nlp.append({
            "note_nlp_id": nlp_ids[(v.report_id, v.key)], "note_id": note_ids[(v.report_id,)],
            "section_concept_id": 0, "snippet": snippet, "offset": None if start is None else str(start),
            "lexical_variant": words[:250], "note_nlp_concept_id": concept, "note_nlp_source_concept_id": concept,
            "nlp_system": v.model_id[:250], "nlp_date": when.date(), "nlp_datetime": when,
            "term_exists": TERM_EXISTS.get(v.assertion, "Y") if v.assertion else None,
            "term_temporal": "past" if v.kind == "temporal_change" and v.value == "resolved" else "present",
            "term_modifiers": _modifiers(v, code)})
    return {"note": pa.Table.from_pylist(notes, schema=arrow_schema("note")),
            "note_nlp": pa.Table.from_pylist(nlp, schema=arrow_schema("note_nlp"))}


def write_tables(data: ExportData, directory: str, concept_map: dict[tuple[str, str], int] | None = None
                 ) -> dict[str, int]:
    """``note.parquet``, ``note.csv``, ``note_nlp.parquet``, ``note_nlp.csv`` in ``directory``; returns row counts."""
    counts = {}
    for name, table in tables(data, concept_map).items():
        pq.write_table(table, os.path.join(directory, f"{name}.parquet"))
        pacsv.write_csv(table, os.path.join(directory, f"{name}.csv"))
        counts[name] = table.num_rows
    return counts
