"""The output-table contract: one Arrow schema per table, defined here and nowhere else.

``schemas/<table>.json`` is the checked-in copy of this contract (``radlite schemas --write``
regenerates it); a test fails when the two diverge.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pyarrow as pa

CONTRACT_VERSION = "1.0.0"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    nullable: bool = True


def _cols(*specs: tuple) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


TASK_COLUMNS = _cols(
    ("report_id", pa.string(), "Report this result belongs to (reports.report_id).", False),
    ("task", pa.string(), "Task name from the task registry, e.g. rads_assignment.", False),
    ("model_id", pa.string(), "Routing entry that produced the output: model file name plus adapter file names "
     "(with @merged-Q8_0 when they are merged into its weights), or radlite-rules@<version>+<rule sources sha256>.",
     False),
    ("prompt_id", pa.string(), "Prompt profile and template version, e.g. radlite-v1/rads_assignment@1.", False),
    ("prompt_sha256", pa.string(), "SHA-256 of the exact prompt text sent to the model.", False),
    ("run_id", pa.string(), "Run that wrote this row (runs.run_id).", False),
    ("valid", pa.bool_(), "True when the raw output parsed into the typed result of the task.", False),
    ("raw_output", pa.string(), "The model's output text exactly as generated (null when the model call failed)."),
    ("error", pa.string(), "Why the row is not valid: the parse error, or context_overflow: / model_error: and "
                           "llama.cpp's message when the model call failed (null when valid)."),
    ("withheld", pa.bool_(), "True: the row's value is not published (unsupported by its own evidence, not grounded "
                             "in the report, or the task does not apply to the report): the current views, `radlite "
                             "sql` and the exports leave it out, `<table>_withheld` lists it, raw_output keeps it "
                             "(radlite.withholding; docs/values.md). Always true or false in rows written since it was "
                             "added (null only in older files)."),
    ("withheld_reason", pa.string(), "Why the value is withheld: a code, a colon, then words: 'not applicable: ...', "
                                     "'ungrounded: ...', 'unsupported: ...' (null when not withheld)."),
)

EVIDENCE_COLUMNS = _cols(
    ("evidence_start", pa.int32(), "Character offset in reports.text of the words this value comes from (null when "
                                   "not found or nothing to point at)."),
    ("evidence_end", pa.int32(), "End offset (exclusive) of the evidence."),
    ("evidence", pa.string(), "reports.text[evidence_start:evidence_end]: the words themselves."),
    ("grounded", pa.bool_(), "True: the evidence was found in the report; false: looked for and not found (a value "
                             "the report may not support); null: the value claims nothing to point at "
                             "(not_mentioned, No applicable RADS, a chosen answer)."),
    ("supported", pa.bool_(), "True: the evidence words, read by the assertion engine, assert the value (a positive "
                              "finding not negated there, M1 where metastasis is stated present); false: they "
                              "contradict it (M1 on 'No evidence of distant metastasis'); null: nothing to check "
                              "(no evidence, or no check for this value: RADS categories, QA answers). "
                              "See docs/values.md."),
)
#: Tables of task answers: every one carries TASK_COLUMNS (withheld included).
TASK_TABLES = ("rads", "staging", "entities", "temporal_changes", "abnormalities", "impressions", "nli", "qa_answers")
#: Task tables whose every row points at its evidence in the report.
EVIDENCE_TABLES = ("rads", "staging", "entities", "temporal_changes", "abnormalities", "qa_answers")

TABLES: dict[str, tuple[Column, ...]] = {
    "reports": _cols(
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
    "rejects": _cols(
        ("reject_id", pa.string(), "Stable id: hash of source, locator and reason.", False),
        ("source", pa.string(), "Input the record came from.", False),
        ("locator", pa.string(), "Where in the source (member path, row=N, line=N, id=X).", False),
        ("reason", pa.string(), "Reason code: not_utf8, empty, binary, too_large, compression_bomb, unsafe_path, "
                                "malformed_csv_row, malformed_jsonl, missing_field, duplicate_id, not_a_report, "
                                "unreadable_input, hl7_* (radlite.rejects.RejectReason lists them all).", False),
        ("message", pa.string(), "Human-readable detail.", False),
        ("run_id", pa.string(), "Run that rejected the record.", False),
    ),
    "runs": _cols(
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
    "rads": TASK_COLUMNS + EVIDENCE_COLUMNS + _cols(
        ("system", pa.string(), "RADS system, canonical: BI-RADS, LI-RADS, PI-RADS, TI-RADS, Lung-RADS, O-RADS, "
                                "NI-RADS, CAD-RADS, VI-RADS, GB-RADS; or none."),
        ("category", pa.string(), "Canonical category within the system, e.g. 4A, 5, TR-viable."),
        ("label", pa.string(), "Canonical label, e.g. 'BI-RADS 4A', or 'No applicable RADS'."),
        ("severity_rank", pa.int32(), "Ordinal severity within the system (higher is more suspicious)."),
        ("scope", pa.string(), "report: the report-level category (the highest the impression states, else the "
                               "computed one); site: one site, side or lesion of a report that assesses several."),
        ("site", pa.string(), "Site words the category is stated or computed for, as written in lower case "
                              "('primary site', 'right breast', 'segment 7', 'nodule 2 left lobe'); null when none."),
        ("computed_category", pa.string(), "Category computed from the stated features by the system's formula "
                                           "(rules rows; every system has one, docs/values.md); null when no "
                                           "formula applies or it leaves the category open (computed_reason says "
                                           "why)."),
        ("rads_version", pa.string(), "Version of the published definitions the system's formula follows "
                                      "('Lung-RADS v2022', 'LI-RADS v2018', 'PI-RADS v2.1', ...; docs/values.md); "
                                      "set whenever the formula applied, with or without a computed category."),
        ("computed_reason", pa.string(), "Why no category was computed where the system's formula applied: the "
                                         "system and the missing feature ('LI-RADS: arterial phase enhancement not "
                                         "stated'); null when a category was computed or no formula applied."),
        ("prior_category", pa.string(), "The category a stated revision replaces ('Lung-RADS 3 -> 4B', 'upgraded "
                                        "from 3 to 4B': 3), or the report body's category an ADDENDUM revises; "
                                        "null when the report states no revision."),
        ("agreement", pa.string(), "Stated vs computed category: agree, disagree, stated_only (no computed "
                                   "category) or computed_only (the report states none: category is the computed "
                                   "one); null on a model's rows."),
        ("computed_features", pa.string(), "The features the computed category comes from ('solid nodule, mean "
                                           "diameter 8 mm, baseline'), or why the formula leaves it open."),
        ("computed_evidence_start", pa.int32(), "Offset in reports.text of the words the features are read from."),
        ("computed_evidence_end", pa.int32(), "End offset (exclusive) of those words."),
        ("computed_evidence", pa.string(), "reports.text[computed_evidence_start:computed_evidence_end]."),
    ),
    "staging": TASK_COLUMNS + EVIDENCE_COLUMNS + _cols(
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
    "entities": TASK_COLUMNS + EVIDENCE_COLUMNS + _cols(
        ("entity_index", pa.int32(), "Order of the entity in the output."),
        ("text", pa.string(), "Entity text."),
        ("label", pa.string(), "RadGraph label: ANAT-DP, OBS-DP, OBS-U, OBS-DA. An observation's present / absent / "
                               "uncertain class is the assertion engine's wherever it finds a cue around the "
                               "entity (radlite.text.assertion); else the answer's."),
        ("model_label", pa.string(), "The label as the answer gave it (the model's, or the rules'), kept for audit "
                                     "when the assertion engine's reading replaces it in label."),
        ("start", pa.int32(), "Character offset of the entity in reports.text (null when not found)."),
        ("end", pa.int32(), "Character end offset (exclusive)."),
        ("change", pa.string(), "Change label where given (RadGraph2)."),
    ),
    "temporal_changes": TASK_COLUMNS + EVIDENCE_COLUMNS + _cols(
        ("finding", pa.string(), "Finding the change refers to."),
        ("change", pa.string(), "new, worsened, improved, resolved or unchanged."),
    ),
    "abnormalities": TASK_COLUMNS + EVIDENCE_COLUMNS + _cols(
        ("finding", pa.string(), "One of the 14 CheXpert observations."),
        ("status", pa.string(), "positive, negative, uncertain or not_mentioned."),
    ),
    "impressions": TASK_COLUMNS + _cols(
        ("generated", pa.string(), "Generated impression."),
        ("reference", pa.string(), "The report's own impression, when it has one."),
        ("rouge_l", pa.float64(), "ROUGE-L F1 of generated against the report's own impression."),
    ),
    "nli": TASK_COLUMNS + _cols(
        ("sentence_index", pa.int32(), "Index of the impression sentence used as hypothesis."),
        ("premise", pa.string(), "Findings text."),
        ("hypothesis", pa.string(), "Impression sentence."),
        ("label", pa.string(), "entailment, contradiction or neutral."),
    ),
    "qa_answers": TASK_COLUMNS + EVIDENCE_COLUMNS + _cols(
        ("question_id", pa.string(), "Question id from the --questions file."),
        ("question", pa.string(), "Question text."),
        ("answer", pa.string(), "Answer text."),
    ),
    "report_priors": _cols(
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
    "finding_timeline": _cols(
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
    "review_verdicts": _cols(
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

TABLE_DOCS = {
    "reports": "One row per accepted report, with provenance and sections.",
    "rejects": "One row per refused input record, with a reason code.",
    "runs": "One row per committed run: counts, timings, options.",
    "rads": "RADS category per report, and per site when a report assesses several (rads_assignment).",
    "staging": "N and M stage per report, and per primary when a report stages several (n_staging, m_staging).",
    "entities": "RadGraph-schema entities per report (radiology_ner).",
    "temporal_changes": "Temporal changes per report (temporal_comparison).",
    "abnormalities": "14 CheXpert labels per chest radiograph (abnormality_detection).",
    "impressions": "Generated impression per report (impression_generation).",
    "nli": "Impression sentence vs findings inference (radiology_nli).",
    "qa_answers": "Answers to registry questions (radiology_qa).",
    "report_priors": "Each report's prior study of the same patient and series (radlite.timeline).",
    "finding_timeline": "Per patient, finding and study: value, change vs the prior, stated change, agreement.",
    "review_verdicts": "Reviewers' verdicts on sampled values (radlite review import, adjudicate).",
}
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
