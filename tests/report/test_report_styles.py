"""Reports in other departments' house styles (tests/fixtures/report_styles/report_styles.yaml): the
sections, exam line and study date that every task's applicability and the rules depend on."""

from __future__ import annotations

import os

import pytest
import yaml

from radlite.report import build_report

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "report_styles", "report_styles.yaml")
with open(FIXTURE, encoding="utf-8") as handle:
    CASES = yaml.safe_load(handle)["cases"]


def _text(case: dict) -> str:
    """The case's report text, with CR LF line ends when the case says so."""
    return case["text"].replace("\n", "\r\n") if case.get("newline") == "crlf" else case["text"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_house_style(case):
    report = build_report("styles", case["id"], _text(case))
    found = {name for name, body in report.section_texts().items() if body}
    assert found == set(case["sections"])
    assert report.findings.startswith(case["findings"])
    assert report.impression.startswith(case["impression"])
    assert case.get("impression_has", "") in report.impression
    assert "impression_lacks" not in case or case["impression_lacks"] not in report.impression
    assert (report.modality, report.body_region, report.study_date) == (
        case["modality"], case["body_region"], case["date"])


def test_the_fixture_covers_many_styles():
    assert len(CASES) >= 30 and len({c["id"] for c in CASES}) == len(CASES)
    assert len({c["style"] for c in CASES}) >= 25
