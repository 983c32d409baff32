"""The column type of the table contract, and the columns every task table shares.

Below both the task registry (radlite.tasks, whose tasks declare their own tables' columns) and the
contract (radlite.tables, which gathers every table): both import it, neither imports the other's way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    """One column of an output table: its name, Arrow type, doc (written into the schema) and nullability."""

    name: str
    type: pa.DataType
    doc: str
    nullable: bool = True


def columns(*specs: tuple) -> tuple[Column, ...]:
    """Columns from (name, type, doc[, nullable]) tuples: a table reads as a list of its columns."""
    return tuple(Column(*spec) for spec in specs)


#: Columns every task table starts with (radlite.tasks.table.TaskTable adds its own after them).
TASK_COLUMNS = columns(
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
    ("confidence", pa.float64(), "Calibrated probability that the value is right (0..1): for a model value from "
                                 "the probabilities of the tokens that wrote it, for a rule value from the class "
                                 "of its cue, mapped through the routing's calibration (radlite.confidence; "
                                 "docs/quality/calibration.md). Null: no value, an impression (graded, never right "
                                 "or wrong), or a model answer whose token probabilities were not kept."),
    ("withheld", pa.bool_(), "True: the row's value is not published (unsupported by its own evidence, not grounded "
                             "in the report, the task does not apply to the report, or its confidence is below the "
                             "routing's min_confidence): the current views, `radlite sql` and the exports leave it "
                             "out, `<table>_withheld` lists it, raw_output keeps it (radlite.withholding; "
                             "docs/values.md). Always true or false in rows written since it was added (null only "
                             "in older files)."),
    ("withheld_reason", pa.string(), "Why the value is withheld: a code, a colon, then words: 'not applicable: ...', "
                                     "'ungrounded: ...', 'unsupported: ...', 'low confidence: ...' "
                                     "(null when not withheld)."),
)

#: Columns of a task table whose values point at their words in the report (TaskTable.evidence).
EVIDENCE_COLUMNS = columns(
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
