"""Stated N and M stages per primary (radlite/text/tnm.py, radlite/rules/stages.py): a report that stages two
primaries gets one site row per primary beside the report-level row; a report that stages one keeps its
single row. Scored on oncology reports written for the purpose
(tests/fixtures/oncology/two_primaries_reports.yaml)."""

import os

import pytest
import yaml

from radlite.evidence_support import supported
from radlite.report import build_report
from radlite.rules.answers import rule_answer
from radlite.rules.stages import stated_per_primary
from radlite.tasks import TASKS
from radlite.tasks.staging import StageResult

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "oncology", "two_primaries_reports.yaml")
with open(FIXTURE, encoding="utf-8") as fh:
    REPORTS = yaml.safe_load(fh)


def _rows(text: str, task: str) -> list[tuple]:
    """(scope, site, stage, evidence quote, supported) of the rows the rules write, as the pipeline
    writes them; [] when the rules give no answer."""
    report = build_report("t", "r", text)
    instance = TASKS[task].instances(report)[0]
    answer = rule_answer(report, instance)
    if answer is None:
        return []
    rows = TASKS[task].rows(answer.result, instance, report)
    out = []
    for row, evidence in zip(rows, answer.evidence, strict=True):
        stage = row["n_stage"] or row["m_stage"]
        out.append((row["scope"], row["site"], stage, report.text[evidence.start:evidence.end],
                    supported(task, row, evidence, report.text)))
    return out


def test_two_primaries_named_before_their_stages_give_a_row_each_and_the_report_level_row():
    text = "CT CHEST\nIMPRESSION: Right upper lobe primary: cT2a N1 M0. Left breast primary: T1c N0 M1."
    assert _rows(text, "n_staging") == [
        ("report", None, "N1", "N1", True),
        ("site", "right upper lobe", "N1", "Right upper lobe primary: cT2a N1 M0", True),
        ("site", "left breast", "N0", "Left breast primary: T1c N0 M1", True)]
    assert _rows(text, "m_staging") == [
        ("report", None, "M1", "M1", True),
        ("site", "right upper lobe", "M0", "Right upper lobe primary: cT2a N1 M0", True),
        ("site", "left breast", "M1", "Left breast primary: T1c N0 M1", True)]


def test_sites_named_after_their_stages_and_the_highest_n():
    text = ("CT CHEST\nIMPRESSION: Two lung primaries: cT1b N0 M0 for the right upper lobe adenocarcinoma, "
            "and cT3 N2 M0 for the left lower lobe carcinoma.")
    assert _rows(text, "n_staging") == [
        ("report", None, "N2", "N2", True),
        ("site", "right upper lobe", "N0", "cT1b N0 M0 for the right upper lobe", True),
        ("site", "left lower lobe", "N2", "cT3 N2 M0 for the left lower lobe", True)]
    assert [r[:3] for r in _rows(text, "m_staging")] == [
        ("report", None, "M0"), ("site", "right upper lobe", "M0"), ("site", "left lower lobe", "M0")]


def test_numbered_primaries_in_one_sentence_keep_the_t_stage_in_their_evidence():
    text = "CT ABDOMEN PELVIS\nIMPRESSION: Primary 1 (sigmoid colon) T3N1; primary 2 (rectum) T2N0."
    assert _rows(text, "n_staging") == [
        ("report", None, "N1", "N1", True),
        ("site", "primary 1 sigmoid colon", "N1", "Primary 1 (sigmoid colon) T3N1", True),
        ("site", "primary 2 rectum", "N0", "primary 2 (rectum) T2N0", True)]


def test_m1_when_one_of_two_primaries_states_it_with_that_statements_evidence():
    text = "CT CHEST ABDOMEN\nIMPRESSION: Left breast primary: T2 N1 M1b. Right kidney primary: T1a N0 M0."
    assert _rows(text, "m_staging")[0] == ("report", None, "M1", "M1b", True)


@pytest.mark.parametrize("text,n,quote", [
    ("CT CHEST\nIMPRESSION: Lung cancer, T2N1M0.", "N1", "N1"),
    ("CT CHEST\nIMPRESSION: Right upper lobe adenocarcinoma, cT2a N2 M0.", "N2", "N2"),
    ("CT CHEST\nFINDINGS: Right upper lobe mass, cT2a N1.\nIMPRESSION: Right upper lobe primary, cT2a N1 M0.",
     "N1", "N1"),
    ("CT CHEST\nIMPRESSION: N2 disease. Staging: M1b.", "N2", "N2"),
])
def test_one_staged_primary_keeps_the_single_report_level_row(text, n, quote):
    assert _rows(text, "n_staging") == [("report", None, n, quote, True)]


def test_an_m1_segment_is_no_stage_even_in_a_staging_report():
    text = ("CTA HEAD AND NECK\nFINDINGS: The left M1 segment is patent.\n"
            "IMPRESSION: Known lung cancer, cT2 N1; no intracranial metastasis.")
    report = build_report("t", "r", text)
    assert stated_per_primary(report, "M") is None
    assert stated_per_primary(report, "N")[0].n_stage == "N1"


def test_a_models_answer_is_the_report_level_row():
    report = build_report("t", "r", "CT CHEST\nIMPRESSION: Right upper lobe primary: cT2a N1 M0. "
                                    "Left breast primary: T1c N2 M0.")
    instance = TASKS["n_staging"].instances(report)[0]
    result = TASKS["n_staging"].parse("N2")
    rows = TASKS["n_staging"].rows(result, instance, report)
    evidence = TASKS["n_staging"].ground(result, instance, report)
    assert [(r["scope"], r["site"], r["n_stage"]) for r in rows] == [("report", None, "N2")]
    assert report.text[evidence[0].start:evidence[0].end] == "N2"
    assert TASKS["n_staging"].rows(StageResult(n_stage="N0"), instance, report)[0]["scope"] == "report"


@pytest.mark.parametrize("case", REPORTS, ids=[c["id"] for c in REPORTS])
def test_every_fixture_report_gets_its_primaries(case):
    """Per letter: the report-level stage, and one site row per primary when two or more state it."""
    report = build_report("synthetic-oncology", case["id"], case["text"])
    for letter in "NM":
        key = letter.lower()
        found = stated_per_primary(report, letter)
        if case[key] is None:
            assert found is None
            continue
        result, evidence = found
        staged = [(s["site"], s[key]) for s in case["sites"] if s[key] is not None]
        expected = staged if len(staged) >= 2 else []
        assert getattr(result, f"{key}_stage") == case[key]
        assert [(s.site, getattr(s, f"{key}_stage")) for s in result.sites] == expected
        assert len(evidence) == 1 + len(expected) and all(e.grounded for e in evidence)
        for site, quote in zip(expected, evidence[1:], strict=True):
            assert site[1] in report.text[quote.start:quote.end]
