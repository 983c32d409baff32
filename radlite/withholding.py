"""Withheld, not published: which task values stay in their table without being published, and why.

A value is *withheld* (``withheld = true`` with a ``withheld_reason``) when publishing it would state
something the report does not carry:

- ``not applicable``: an N or M stage for a report about no cancer: no cancer word (cancer,
  carcinoma, malignancy, metastasis, lymphoma, ...) that the assertion engine reads as stated
  (present or suspected; not negated, not asked about, not the name of a screening) and no TNM stage
  written out. The planner applies staging to any CT, MR or PET report where such a word occurs at
  all ("no lymphadenopathy", "lung cancer screening"); this is the stricter reading of the report;
- ``ungrounded``: the value's words were looked for in the report and are not there;
- ``unsupported``: its own evidence, read by the assertion engine, asserts the opposite
  (radlite.evidence_support);
- ``low confidence``: its calibrated confidence (radlite.confidence) is below its table's
  ``min_confidence`` in the routing manifest (``confidence_withheld``): kept for review, not published.

The row stays, with its raw output; the current views, `radlite sql` and the exports leave the value
out. The assertion engine also owns an entity's present / absent / uncertain class: wherever it finds
a cue around the entity's words, its reading is the label, and the answer's label is kept as
``model_label`` (``assertion_owned``).
"""

from __future__ import annotations

import re

from radlite.evidence import Evidence
from radlite.text.assertion import STATUS_OF_RADGRAPH, assert_mention
from radlite.text.tnm import TNM_STATEMENT

#: Tasks whose answers are a stage of a cancer: withheld for a report about no cancer.
CANCER_TASKS = ("n_staging", "m_staging")
_CANCER = re.compile(r"\b(?:cancers?|(?:\w*)carcinomas?|malignan\w*|neoplasms?|neoplastic|metasta\w*|lymphomas?|"
                     r"sarcomas?|melanomas?|myelomas?|mesotheliomas?|gliomas?|glioblastomas?|leuka?emias?|"
                     r"tumou?rs?)\b", re.I)
#: The name of a screening exam or programme ("lung cancer screening", "screening for breast cancer").
_SCREENING = re.compile(r"\W{0,3}screening\b", re.I)
_SCREENING_BEFORE = re.compile(r"\bscreening\s+(?:for\s+)?(?:\w+\s+){0,2}$", re.I)

NOT_APPLICABLE, UNGROUNDED, UNSUPPORTED = "not applicable", "ungrounded", "unsupported"
LOW_CONFIDENCE = "low confidence"


def about_cancer(text: str) -> bool:
    """Whether the report states a cancer (present or suspected) or writes out a TNM stage."""
    if TNM_STATEMENT.search(text):
        return True
    for m in _CANCER.finditer(text):
        if _SCREENING.match(text, m.end()) or _SCREENING_BEFORE.search(text[max(0, m.start() - 40):m.start()]):
            continue
        assertion = assert_mention(text, m.start(), m.end())
        if assertion.status != "absent" and not assertion.hypothetical:
            return True
    return False


def not_applicable(task: str, text: str) -> str | None:
    """Why ``task`` does not apply to the report (None when it does): a staging task on a report about
    no cancer. (A run that names its tasks with --tasks asks for them on every report, and gets their
    values; the default plan applies no task where the planner says it does not apply.)"""
    if task in CANCER_TASKS and not about_cancer(text):
        return "the report is about no cancer"
    return None


def withheld_columns(row: dict, not_applicable_reason: str | None) -> dict:
    """The ``withheld`` and ``withheld_reason`` columns of one answered row (grounded and supported set)."""
    if not_applicable_reason:
        reason = f"{NOT_APPLICABLE}: {not_applicable_reason}"
    elif row.get("grounded") is False:
        reason = f"{UNGROUNDED}: its words are not in the report"
    elif row.get("supported") is False:
        reason = f"{UNSUPPORTED}: its own evidence asserts the opposite"
    else:
        reason = None
    return {"withheld": reason is not None, "withheld_reason": reason}


def confidence_withheld(row: dict, minimum: float | None) -> dict:
    """The row withheld for low confidence when its (calibrated) confidence is below ``minimum``; a row
    already withheld keeps its first reason, and a row with no confidence is never judged by it."""
    confidence = row.get("confidence")
    if row.get("withheld") or minimum is None or confidence is None or confidence >= minimum:
        return row
    return {**row, "withheld": True,
            "withheld_reason": f"{LOW_CONFIDENCE}: calibrated confidence {confidence:.2f} is below the table's "
                               f"min_confidence {minimum:.2f}"}


def reason_code(reason: str | None) -> str | None:
    """The code of a ``withheld_reason``: the words before its colon."""
    return reason.split(":", 1)[0] if reason else None


def assertion_owned(task: str, row: dict, evidence: Evidence | None, text: str) -> dict:
    """The row with its assertion read by the engine: an entity's observation label is the engine's
    reading wherever a cue decides it (a negation, a hedge, a question, a coordination), the answer's
    label kept as ``model_label``. Other tasks' rows, anatomy and ungrounded entities are unchanged."""
    if task != "radiology_ner" or "label" not in row:
        return row
    label = row["label"]
    out = {**row, "model_label": label}
    if label in STATUS_OF_RADGRAPH and evidence is not None and evidence.grounded:
        assertion = assert_mention(text, evidence.start, evidence.end)
        if assertion.rule != "default":
            out["label"] = assertion.radgraph_label
    return out
