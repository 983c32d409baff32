"""`supported`: a value checked against its own evidence with the assertion engine (radlite/evidence_support.py)."""

from __future__ import annotations

import json

import pytest

from pipelines.accounting import RunSummary
from radlite.evidence import Evidence
from radlite.evidence_support import supported
from radlite.inference.runner import answer_rows
from radlite.report import build_report
from radlite.store import OutputStore
from radlite.tasks import TASKS
from radlite.tasks.staging import StageResult
from tests.text.test_assertion import ROWS, _span

RADGRAPH = {"present": "OBS-DP", "absent": "OBS-DA", "uncertain": "OBS-U"}


def _on(text: str, words: str) -> Evidence:
    start = text.index(words)
    return Evidence(start, start + len(words))


@pytest.mark.parametrize("task,row,text,words,expected", [
    ("m_staging", {"m_stage": "M1"}, "IMPRESSION: No evidence of distant metastasis.", "No evidence of distant "
     "metastasis.", False),
    ("m_staging", {"m_stage": "M0"}, "IMPRESSION: No evidence of distant metastasis.", "No evidence of distant "
     "metastasis.", True),
    ("m_staging", {"m_stage": "M1"}, "IMPRESSION: Multiple hepatic metastases.", "Multiple hepatic metastases.", True),
    ("m_staging", {"m_stage": "M0"}, "IMPRESSION: Lung cancer, T2N1M1b.", "M1b", False),
    ("n_staging", {"n_stage": "N0"}, "FINDINGS: Enlarged right hilar lymph node.", "Enlarged right hilar lymph node.",
     False),
    ("n_staging", {"n_stage": "N2"}, "FINDINGS: Enlarged right hilar lymph node.", "Enlarged right hilar lymph node.",
     True),
    ("n_staging", {"n_stage": "N1"}, "FINDINGS: No lymphadenopathy.", "No lymphadenopathy.", False),
    ("n_staging", {"n_stage": "N1"}, "IMPRESSION: T2N1M0.", "N1", True),
    ("abnormality_detection", {"finding": "pneumothorax", "status": "positive"}, "FINDINGS: No pneumothorax.",
     "pneumothorax", False),
    ("abnormality_detection", {"finding": "pneumothorax", "status": "negative"}, "FINDINGS: No pneumothorax.",
     "pneumothorax", True),
    ("abnormality_detection", {"finding": "pneumonia", "status": "positive"}, "FINDINGS: No new focal pneumonia.",
     "pneumonia", False),
    ("temporal_comparison", {"finding": "consolidation", "change": "new"}, "FINDINGS: No new consolidation.",
     "consolidation", False),
    ("temporal_comparison", {"finding": "pneumothorax", "change": "resolved"}, "FINDINGS: Interval resolution of "
     "the pneumothorax.", "pneumothorax", True),
    ("radiology_ner", {"text": "lung", "label": "ANAT-DP"}, "FINDINGS: No pneumothorax in the lung.", "lung", None),
    ("radiology_qa", {"answer": "yes"}, "FINDINGS: No pneumothorax.", "pneumothorax", None),
])
def test_a_value_against_its_own_evidence(task, row, text, words, expected):
    assert supported(task, row, _on(text, words), text) is expected


def test_nothing_to_check_without_evidence():
    assert supported("m_staging", {"m_stage": "M1"}, None, "x") is None
    assert supported("m_staging", {"m_stage": "M1"}, Evidence(), "x") is None


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['domain']}-{r['construction']}-{r['finding']}" for r in ROWS])
def test_an_entity_is_supported_exactly_when_its_label_is_the_fixture_assertion(row):
    """On every fixture sentence: the right RadGraph label is supported, each other one is not."""
    evidence = Evidence(*_span(row["sentence"], row["finding"]))
    for status, label in RADGRAPH.items():
        got = supported("radiology_ner", {"text": row["finding"], "label": label}, evidence, row["sentence"])
        assert got is (status == row["status"]), (label, got)


def test_a_model_row_m1_on_no_distant_metastasis_is_written_unsupported():
    report = build_report("t", "r", "CT CHEST\nFINDINGS: Right upper lobe mass.\nIMPRESSION: Lung cancer. "
                                    "No evidence of distant metastasis.")
    task = TASKS["m_staging"]
    instance = task.instances(report)[0]
    result = StageResult(m_stage="M1")
    rows = answer_rows(task, result, "M1", task.ground(result, instance, report), instance, report, {})
    assert rows[0]["grounded"] is True and rows[0]["supported"] is False
    assert "No evidence of distant metastasis" in rows[0]["evidence"]


def test_the_run_summary_and_runs_row_carry_the_supported_share(tmp_path):
    summary = RunSummary(run_id="r", out="o", rows_by_table={}, wall_seconds=1.0,
                         checkable_by_table={"staging": 4}, supported_by_table={"staging": 3})
    assert summary.supported_share == {"staging": 0.75}
    run = OutputStore(str(tmp_path)).new_run("etl")
    row = run.runs_row(summary.model_dump(), inputs=[], tasks=[], routing=None, options="{}")
    assert json.loads(row["supported_share"]) == {"staging": 0.75}
