"""The output-table contract: one Arrow schema per table, gathered here.

The tables a run writes beside the tasks (reports, rejects, runs), the timeline's and the review
import's are declared here; each task table is declared by its task (radlite.tasks.table.TaskTable)
and joins ``TABLES`` from the task registry, so a task registered later joins it too.

``schemas/<table>.json`` is the checked-in copy of this contract (``radlite schemas --write``
regenerates it); a test fails when the two diverge.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import pyarrow as pa

from radlite.columns import Column, columns
from radlite.tasks import task_tables
from radlite.tasks.table import DerivedMapping, TaskTable

CONTRACT_VERSION = "1.0.0"


#: Tables a run writes besides the task tables (which follow them in TABLES).
_RUN_TABLES: dict[str, tuple[Column, ...]] = {
    "reports": columns(
        ("report_id", pa.string(), "Stable id: hash of source and locator.", False),
        ("source", pa.string(), "Input the report came from (its absolute path, or --source-name); for HL7 v2 the "
                                "sending system (hl7:MSH-4/MSH-3), so one accession's versions in several files "
                                "are one report.", False),
        ("locator", pa.string(), "Where in the source: archive member path, row=N, line=N or id=X.", False),
        ("input_position", pa.int64(), "Position of the record in its input, 0 = first (row, line or member order): "
                                       "orders same-day studies without times (radlite.timeline)."),
        ("patient_id", pa.string(), "Patient id (from the MIMIC-CXR path or a mapped column)."),
        ("study_id", pa.string(), "Study id (from the MIMIC-CXR path or a mapped column)."),
        ("study_date", pa.string(), "Study date (ISO) when the input carries one."),
        ("modality", pa.string(), "XR, CT, MR, US, MG, PET, NM or unknown, inferred from the exam line.", False),
        ("body_region", pa.string(), "chest, abdomen, head, breast, ... or unknown.", False),
        ("text", pa.string(), "Full report text as read (UTF-8).", False),
        ("text_sha256", pa.string(), "SHA-256 of text; (report_id, text_sha256) drives incremental runs.", False),
        ("findings", pa.string(), "FINDINGS section (whole text when the report has no headers)."),
        ("impression", pa.string(), "IMPRESSION / CONCLUSION section."),
        ("comparison", pa.string(), "COMPARISON section."),
        ("indication", pa.string(), "INDICATION / HISTORY / REASON FOR EXAM section."),
        ("technique", pa.string(), "TECHNIQUE section."),
        ("examination", pa.string(), "The exam as the source names it (HL7 OBR-4 text, e.g. 'MRA Head w and w/o "
                                     "Contrast'; --exam-column), else the text's EXAMINATION / EXAM line."),
        ("other", pa.string(), "Any other headed text (notification, recommendation, ...)."),
        ("has_section_headers", pa.bool_(), "False when no section header was found.", False),
        ("result_status", pa.string(), "Status of this version of the result in FHIR DiagnosticReport.status words "
                                       "(registered, partial, preliminary, final, corrected, cancelled, unknown), "
                                       "from HL7 OBR-25 (map in docs/standards.md); null when the source gives "
                                       "none (every non-HL7 input)."),
        ("tasks_planned", pa.list_(pa.string()), "Tasks the planner applied to this report in this run."),
        ("tasks_skipped", pa.list_(pa.string()), "Each task not planned, as 'task: reason' (e.g. "
                                                 "'abnormality_detection: not a chest radiograph (...)')."),
        ("run_id", pa.string(), "Run that accepted the report.", False),
    ),
    "rejects": columns(
        ("reject_id", pa.string(), "Stable id: hash of source, locator and reason.", False),
        ("source", pa.string(), "Input the record came from.", False),
        ("locator", pa.string(), "Where in the source (member path, row=N, line=N, id=X).", False),
        ("reason", pa.string(), "Reason code: not_utf8, empty, binary, too_large, compression_bomb, unsafe_path, "
                                "malformed_csv_row, malformed_jsonl, missing_field, duplicate_id, not_a_report, "
                                "unreadable_input, hl7_* (radlite.rejects.RejectReason lists them all).", False),
        ("message", pa.string(), "Human-readable detail.", False),
        ("run_id", pa.string(), "Run that rejected the record.", False),
    ),
    "runs": columns(
        ("run_id", pa.string(), "UTC start time plus a random suffix.", False),
        ("started_at", pa.timestamp("us", tz="UTC"), "When the run started.", False),
        ("finished_at", pa.timestamp("us", tz="UTC"), "When the run committed.", False),
        ("status", pa.string(), "committed (only committed runs are recorded).", False),
        ("inputs", pa.list_(pa.string()), "Input paths of the run.", False),
        ("tasks", pa.list_(pa.string()), "Tasks enabled for the run."),
        ("routing", pa.string(), "Routing table name or path."),
        ("read", pa.int64(), "Input records read.", False),
        ("accepted", pa.int64(), "Records accepted as reports (new + unchanged).", False),
        ("accepted_new", pa.int64(), "Accepted reports processed in this run.", False),
        ("skipped_unchanged", pa.int64(), "Accepted reports whose (report_id, text_sha256) was done before.", False),
        ("rejected", pa.int64(), "Records rejected; read = accepted + rejected.", False),
        ("rejected_by_reason", pa.string(), "JSON object: reason code -> count.", False),
        ("rows_by_table", pa.string(), "JSON object: table -> rows added by this run.", False),
        ("wall_seconds", pa.float64(), "Wall time of the run.", False),
        ("reports_per_second", pa.float64(), "read / wall_seconds.", False),
        ("cache_hits", pa.int64(), "Task outputs served from the result cache."),
        ("cache_lookups", pa.int64(), "Task outputs looked up in the result cache."),
        ("rules_answered", pa.int64(), "Task instances the rule extractors answered (no model asked)."),
        ("model_instances", pa.int64(), "Task instances answered by a model (or its result cache)."),
        ("model_errors", pa.int64(), "Task instances whose model call failed (model_error:, context_overflow:)."),
        ("model_retried", pa.int64(), "Failed model instances of earlier runs that this run planned again."),
        ("grounded_share", pa.string(), "JSON object: task table -> share of its values whose evidence was found "
                                        "in the report text."),
        ("supported_share", pa.string(), "JSON object: task table -> share of its checked values (supported not "
                                         "null) whose own evidence asserts them."),
        ("withheld_by_table", pa.string(), "JSON object: task table -> rows added by this run whose value is "
                                           "withheld (withheld = true)."),
        ("radlite_version", pa.string(), "Package version that ran.", False),
        ("options", pa.string(), "JSON of the run's options."),
    ),
}
#: Tables computed after a run's commit or written by a review import; they come after the task tables.
_LATER_TABLES: dict[str, tuple[Column, ...]] = {
    "report_priors": columns(
        ("report_id", pa.string(), "Report (reports.report_id).", False),
        ("patient_id", pa.string(), "Patient id of the report (null: none in the input)."),
        ("patient_key", pa.string(), "Patient the report is followed under: patient_id as given, or normalised "
                                     "(leading zeros stripped, case folded) when patient_ids_normalized."),
        ("patient_ids_normalized", pa.bool_(), "Whether the pairing ran with --normalize-patient-ids (studies whose "
                                               "ids differ only in leading zeros or case are one patient's)."),
        ("series", pa.string(), "Modality family and body region the report is compared within, e.g. 'CT chest' "
                                "(null: none, see reason)."),
        ("study_date", pa.string(), "Study date (ISO, with THH:MM when known) used for ordering; null when the "
                                    "input gives none or it is no date."),
        ("position", pa.int32(), "Place in the patient's series, 0 = first study (null: not placed)."),
        ("prior_report_id", pa.string(), "The patient's previous study of the same series (null: none, see reason)."),
        ("prior_basis", pa.string(), "What ordered the two studies: study_date, study_time (same day), "
                                     "same_day_arrival_order (same day, no times) or arrival_order (no dates in the "
                                     "series: commit order, then position in the input)."),
        ("reason", pa.string(), "Why the report has no prior: first study of its series, no patient id, modality or "
                                "region unknown, undated among dated studies."),
        ("run_id", pa.string(), "Run after whose commit the pairing was computed (runs.run_id).", False),
    ),
    "finding_timeline": columns(
        ("patient_id", pa.string(), "Patient id.", False),
        ("series", pa.string(), "Modality family and body region, e.g. 'CT chest'.", False),
        ("report_id", pa.string(), "The study's report (reports.report_id).", False),
        ("study_date", pa.string(), "Study date (ISO) when known."),
        ("position", pa.int32(), "Place of the study in the patient's series, 0 = first.", False),
        ("prior_report_id", pa.string(), "Prior study compared against (report_priors); null for the first."),
        ("prior_basis", pa.string(), "How the prior was chosen (report_priors.prior_basis)."),
        ("finding_kind", pa.string(), "chexpert (abnormalities), rads, n_stage, m_stage, lesion (a lesion the "
                                      "report text names, radlite.timeline.lesions), or stated (a stated change that "
                                      "names none of these).", False),
        ("finding", pa.string(), "CheXpert label, RADS system, N or M, lesion name (kind and site: 'nodule right "
                                 "upper lobe', 'mass right breast 10 o'clock') or the stated finding's words.", False),
        ("value", pa.string(), "Value at this study: status, category, stage or size (e.g. '8 mm')."),
        ("assertion", pa.string(), "present, absent, uncertain or not_mentioned at this study."),
        ("category_rank", pa.int32(), "Ordinal rank of a RADS category (rads.severity_rank) or an N/M stage."),
        ("size_mm", pa.float64(), "Lesion size (largest dimension, mm) at this study."),
        ("prior_value", pa.string(), "Value at the prior study."),
        ("prior_assertion", pa.string(), "Assertion at the prior study (null: no prior study)."),
        ("prior_size_mm", pa.float64(), "Lesion size at the prior study."),
        ("size_change_pct", pa.float64(), "100 * (size_mm - prior_size_mm) / prior_size_mm."),
        ("computed_change", pa.string(), "Change computed against the prior study: baseline (no prior), new, "
                                         "resolved, persistent, increased / decreased (size: > 1.5 mm for a lung "
                                         "lesion, Lung-RADS; >= 20% elsewhere), category_up, "
                                         "category_down, unchanged (category), absent, not_restated, not_mentioned, "
                                         "uncertain."),
        ("stated_change", pa.string(), "Change the report states for this finding (temporal_changes.change)."),
        ("agreement", pa.string(), "agree / disagree between stated and computed change; no_prior (nothing to check "
                                   "against); unchecked (the comparison cannot say); null when nothing is stated."),
        ("evidence_start", pa.int32(), "Offset in this report's text of the finding's words."),
        ("evidence_end", pa.int32(), "End offset (exclusive)."),
        ("evidence", pa.string(), "The finding's words in this report."),
        ("prior_evidence_start", pa.int32(), "Offset in the prior report's text of the finding's words."),
        ("prior_evidence_end", pa.int32(), "End offset (exclusive) in the prior report."),
        ("stated_evidence_start", pa.int32(), "Offset in this report's text of the stated change's finding (of a "
                                              "lesion: of the change's words in its clause)."),
        ("stated_evidence_end", pa.int32(), "End offset (exclusive)."),
        ("run_id", pa.string(), "Run after whose commit the timeline was computed (runs.run_id).", False),
    ),
    "review_verdicts": columns(
        ("verdict_id", pa.string(), "Stable id: hash of item_id and reviewer (a later import by the same reviewer "
                                    "supersedes the earlier verdict); an adjudication's: of item_id alone (a later "
                                    "adjudication of the item supersedes it).", False),
        ("sample_id", pa.string(), "Sample the item was drawn in (radlite review OUT ...).", False),
        ("item_id", pa.string(), "Sampled value: hash of table, report_id, task and the row's key.", False),
        ("reviewer", pa.string(), "Name given with radlite review import --reviewer.", False),
        ("table_name", pa.string(), "Table of the reviewed value, e.g. abnormalities.", False),
        ("report_id", pa.string(), "Report of the reviewed value (reports.report_id).", False),
        ("task", pa.string(), "Task of the reviewed row.", False),
        ("label", pa.string(), "What the value is about: finding, RADS system, entity label, question id.", False),
        ("status", pa.string(), "positive, uncertain, assigned (claims) or negative, not_mentioned, none (no claim), "
                                "as committed when sampled.", False),
        ("value", pa.string(), "The value shown to the reviewer.", False),
        ("model_id", pa.string(), "model_id of the reviewed row: the verdict is stale once the table's row has "
                                  "another.", False),
        ("verdict", pa.string(), "correct, incorrect or cant_tell.", False),
        ("corrected_value", pa.string(), "The value the reviewer typed as right (optional)."),
        ("reviewed_at", pa.timestamp("us", tz="UTC"), "When the reviewer marked it in the page."),
        ("run_id", pa.string(), "Import that committed the verdict (runs.run_id).", False),
        ("adjudication", pa.bool_(), "True for a verdict recorded by radlite review adjudicate: it settles the "
                                     "reviewers' dispute on the item and counts instead of their verdicts "
                                     "(reviewer names the adjudicator)."),
    ),
}

_OWN_DOCS = {
    "reports": "One row per accepted report, with provenance and sections.",
    "rejects": "One row per refused input record, with a reason code.",
    "runs": "One row per committed run: counts, timings, options.",
    "report_priors": "Each report's prior study of the same patient and series (radlite.timeline).",
    "finding_timeline": "Per patient, finding and study: value, change vs the prior, stated change, agreement.",
    "review_verdicts": "Reviewers' verdicts on sampled values (radlite review import, adjudicate).",
}


def _all_tables() -> dict[str, tuple[Column, ...]]:
    """table -> columns: the run tables, then each task table in registry order, then the later tables."""
    tasks = {name: table.columns for name, table in task_tables().items()}
    clash = sorted(set(tasks) & (set(_RUN_TABLES) | set(_LATER_TABLES)))
    if clash:
        raise ValueError(f"a task declares table {clash[0]!r}, which radlite.tables declares already")
    return {**_RUN_TABLES, **tasks, **_LATER_TABLES}


TABLES: Mapping[str, tuple[Column, ...]] = DerivedMapping(_all_tables)
TABLE_DOCS: Mapping[str, str] = DerivedMapping(
    lambda: {name: _OWN_DOCS.get(name) or task_tables()[name].doc for name in TABLES})
#: Tables of task answers (name -> declaration): every one carries TASK_COLUMNS (withheld included).
TASK_TABLES: Mapping[str, TaskTable] = DerivedMapping(task_tables)
#: Task tables whose every row points at its evidence in the report.
EVIDENCE_TABLES: Mapping[str, TaskTable] = DerivedMapping(
    lambda: {name: table for name, table in task_tables().items() if table.evidence})
_all_tables()  # a task table that clashes with a table declared here fails on import

#: Tables computed from the committed tables after a run's commit (radlite.timeline.build).
TIMELINE_TABLES = ("report_priors", "finding_timeline")
#: Tables a review import writes; an ETL run never stages them.
REVIEW_TABLES = ("review_verdicts",)


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema every Parquet file of ``table`` is written with."""
    return pa.schema([pa.field(c.name, c.type, nullable=c.nullable, metadata={"doc": c.doc}) for c in TABLES[table]],
                     metadata={"table": table, "contract_version": CONTRACT_VERSION})


def contract_json(table: str) -> dict:
    """The JSON contract of one table, as checked in under schemas/."""
    return {
        "table": table,
        "contract_version": CONTRACT_VERSION,
        "doc": TABLE_DOCS[table],
        "columns": [{"name": c.name, "type": str(c.type), "nullable": c.nullable, "doc": c.doc} for c in TABLES[table]],
    }


def write_contract(directory: str) -> list[str]:
    """Write schemas/<table>.json for every table; returns the paths written."""

    os.makedirs(directory, exist_ok=True)
    paths = []
    for table in TABLES:
        path = os.path.join(directory, f"{table}.json")
        with open(path, "w") as fh:
            json.dump(contract_json(table), fh, indent=2)
            fh.write("\n")
        paths.append(path)
    return paths
