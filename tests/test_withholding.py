"""radlite/withholding.py: which values are withheld and why, and the assertion engine's entity labels.
Texts are hand-written (synthetic)."""

from __future__ import annotations

import pytest
from conftest import evidence_at

from radlite.inference.runner import answer_rows
from radlite.report import build_report
from radlite.tables import TABLES, TASK_TABLES
from radlite.tasks import TASKS
from radlite.tasks.ner import Entity, NerResult
from radlite.withholding import about_cancer, assertion_owned, not_applicable, withheld_columns


@pytest.mark.parametrize("text,expected", [
    ("EXAMINATION: CT CHEST LOW DOSE LUNG CANCER SCREENING\nFINDINGS: 6 mm nodule. No lymphadenopathy.", False),
    ("CT CHEST: Screening for lung cancer. Clear lungs.", False),
    ("CT ABDOMEN: No evidence of metastatic disease. No lymphadenopathy.", False),
    ("CT ABDOMEN: Rule out malignancy. Normal liver.", False),
    ("CT CHEST: Follow-up of a 5 mm nodule, stable.", False),
    ("CT CHEST: Staging of right upper lobe adenocarcinoma.", True),
    ("CT CHEST: 3 cm spiculated mass suspicious for malignancy.", True),
    ("CT NECK: History of tongue carcinoma. No recurrence.", True),
    ("IMPRESSION: Lung mass, T2N1M0.", True),
])
def test_a_report_is_about_a_cancer_when_it_states_one(text, expected):
    assert about_cancer(text) is expected


def test_staging_does_not_apply_to_a_report_about_no_cancer():
    screening = "CT CHEST LUNG CANCER SCREENING: No nodules."
    assert not_applicable("n_staging", screening) == "the report is about no cancer"
    assert not_applicable("m_staging", "CT: Metastatic colon cancer.") is None
    assert not_applicable("radiology_ner", screening) is None  # entities need no cancer
    # a stage written out is a staging statement, whatever cancer words the report uses
    assert not_applicable("n_staging", "CT CHEST\nIMPRESSION: Right upper lobe primary: cT2a N1 M0.") is None


@pytest.mark.parametrize("row,inapplicable,reason", [
    ({"grounded": True, "supported": True}, None, None),
    ({"grounded": None, "supported": None}, None, None),  # claims nothing to point at: published
    ({"grounded": False, "supported": None}, None, "ungrounded: its words are not in the report"),
    ({"grounded": True, "supported": False}, None, "unsupported: its own evidence asserts the opposite"),
    ({"grounded": False, "supported": None}, "the report is about no cancer",
     "not applicable: the report is about no cancer"),
])
def test_withheld_columns_say_whether_and_why(row, inapplicable, reason):
    assert withheld_columns(row, inapplicable) == {"withheld": reason is not None, "withheld_reason": reason}



@pytest.mark.parametrize("text,label,expected", [
    ("FINDINGS: No pneumothorax.", "OBS-DP", "OBS-DA"),
    ("FINDINGS: Small left effusion may represent atelectasis.", "OBS-DP", "OBS-U"),
    ("FINDINGS: Possible pneumothorax.", "OBS-DA", "OBS-U"),
    ("FINDINGS: Right pneumothorax.", "OBS-DA", "OBS-DA"),  # no cue: the answer's label stands (unsupported)
    ("FINDINGS: No effusion in the lung.", "ANAT-DP", "ANAT-DP"),  # anatomy is not an assertion
])
def test_an_entitys_label_is_the_engines_wherever_a_cue_decides_it(text, label, expected):
    words = "lung" if label == "ANAT-DP" else next(w for w in ("pneumothorax", "atelectasis") if w in text)
    row = assertion_owned("radiology_ner", {"text": words, "label": label}, evidence_at(text, words), text)
    assert (row["label"], row["model_label"]) == (expected, label)


def test_a_model_saying_a_negated_finding_is_present_gives_an_absent_entity_with_its_label_kept():
    report = build_report("src", "1", "EXAMINATION: CHEST\nFINDINGS: No pneumothorax. Heart size is normal.")
    task = TASKS["radiology_ner"]
    result = NerResult(entities=[Entity(text="pneumothorax", label="OBS-DP"), Entity(text="effusion", label="OBS-DP")])
    rows = answer_rows(task, result, "raw", task.ground(result, None, report), None, report, {"task": task.name})
    assert [(r["label"], r["model_label"], r["withheld"]) for r in rows] == [("OBS-DA", "OBS-DP", False),
                                                                         ("OBS-DP", "OBS-DP", True)]
    assert rows[1]["withheld_reason"].startswith("ungrounded")


def test_every_task_table_declares_withheld_once_through_the_shared_task_columns():
    assert set(TASK_TABLES) == {t.table for t in TASKS.values()}
    for table in TASK_TABLES:
        names = [c.name for c in TABLES[table]]
        assert names.count("withheld") == 1 and "withheld_reason" in names
    assert "model_label" in [c.name for c in TABLES["entities"]]
