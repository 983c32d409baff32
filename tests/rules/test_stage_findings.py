"""N0/N+ and M0/M1 computed from stated node and metastasis findings (radlite/rules/stage_findings.py),
on oncology reports written for the purpose (tests/fixtures/oncology/node_metastasis_reports.yaml)."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from radlite.report import build_report
from radlite.rules.stage_findings import computed_m, computed_n

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "oncology", "node_metastasis_reports.yaml")
with open(FIXTURE, encoding="utf-8") as fh:
    REPORTS = yaml.safe_load(fh)


def _computed(case: dict):
    report = build_report("synthetic-oncology", case["id"], case["text"])
    return report, computed_n(report), computed_m(report)


def test_n_and_m_are_right_on_at_least_90_percent_of_the_reports():
    assert len(REPORTS) >= 20 and all(case["id"].startswith("synthetic-") for case in REPORTS)
    n_right = m_right = 0
    for case in REPORTS:
        _, n, m = _computed(case)
        n_right += n.value == case["n"]
        m_right += m.value == case["m"]
    print(f"N0/N+ {n_right}/{len(REPORTS)}, M0/M1 {m_right}/{len(REPORTS)}")
    assert n_right / len(REPORTS) >= 0.9 and m_right / len(REPORTS) >= 0.9


@pytest.mark.parametrize("case", REPORTS, ids=[c["id"] for c in REPORTS])
def test_every_computed_stage_points_at_the_sentence_it_comes_from(case):
    report, n, m = _computed(case)
    for stage, word in ((n, "node|lymph|adenopath|nodal"), (m, "metasta|carcinomatosis")):
        if stage.value is None:
            assert stage.reason and not stage.evidence.grounded
        else:
            quote = report.text[stage.evidence.start:stage.evidence.end]
            assert re.search(word, quote, re.I), quote


def test_no_distant_metastasis_is_m0_never_m1():
    report = build_report("t", "r", "CT CHEST\nIMPRESSION: Lung cancer. No evidence of distant metastasis.")
    assert computed_m(report).value == "M0"
