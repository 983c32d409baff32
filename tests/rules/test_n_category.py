"""N category by primary site from stated node facts (radlite/rules/n_category.py, AJCC 8th edition):
each site's N1/N2/N3 boundaries on one-line reports, the accuracy over hand-written oncology reports
(tests/fixtures/oncology/n_category_reports.yaml), and the stated N beside the computed one in the
staging rows."""

from __future__ import annotations

import os

import pytest
import yaml

from radlite.report import build_report
from radlite.rules.answers import rule_answer
from radlite.rules.n_category import report_n
from radlite.tasks import TASKS

ONCOLOGY = os.path.join(os.path.dirname(__file__), "..", "fixtures", "oncology")
with open(os.path.join(ONCOLOGY, "n_category_reports.yaml"), encoding="utf-8") as fh:
    REPORTS = yaml.safe_load(fh)
#: Written after the code, scored once as written (see the file's header).
with open(os.path.join(ONCOLOGY, "n_category_heldout_reports.yaml"), encoding="utf-8") as fh:
    HELDOUT = yaml.safe_load(fh)


def _n(findings: str, exam: str = "CT") -> str | None:
    return report_n(build_report("t", "r", f"{exam}\nFINDINGS: {findings}")).value


@pytest.mark.parametrize("count,expected", [(1, "N1"), (2, "N1"), (3, "N2"), (6, "N2"), (7, "N3"), (16, "N3")])
def test_stomach_and_oesophagus_by_count_1_2_n1_3_6_n2_7_or_more_n3(count, expected):
    assert _n(f"Gastric antral cancer. {count} enlarged perigastric lymph nodes.") == expected
    assert _n(f"Distal oesophageal carcinoma. {count} enlarged paraoesophageal lymph nodes.") == expected


@pytest.mark.parametrize("count,expected", [(1, "N1"), (3, "N1"), (4, "N2"), (9, "N2")])
def test_colorectum_and_pancreas_by_count_1_3_n1_4_or_more_n2(count, expected):
    assert _n(f"Sigmoid colon cancer. {count} enlarged pericolonic lymph nodes.") == expected
    assert _n(f"Pancreatic head adenocarcinoma. {count} enlarged peripancreatic lymph nodes.") == expected


@pytest.mark.parametrize("nodes,expected", [("One enlarged left inguinal lymph node", "N1"),
                                            ("Two enlarged left inguinal lymph nodes", "N2"),
                                            ("Three enlarged left inguinal lymph nodes", "N2"),
                                            ("Four enlarged left inguinal lymph nodes", "N3"),
                                            ("Matted left inguinal lymph nodes", "N3")])
def test_melanoma_one_n1_two_or_three_n2_four_or_matted_n3(nodes, expected):
    assert _n(f"Melanoma of the left thigh. {nodes}.") == expected


@pytest.mark.parametrize("nodes,expected", [
    ("Single enlarged right obturator lymph node, 12 mm", "N1"),
    ("Enlarged right obturator and right external iliac lymph nodes", "N2"),
    ("Two enlarged perivesical lymph nodes", "N2"),
    ("Enlarged left obturator node and enlarged left common iliac node", "N3")])
def test_bladder_single_n1_multiple_n2_common_iliac_n3(nodes, expected):
    assert _n(f"Bladder cancer at the dome. {nodes}.") == expected


@pytest.mark.parametrize("primary,nodes,expected", [
    ("Right upper lobe carcinoma", "Enlarged right hilar lymph node", "N1"),
    ("Right upper lobe carcinoma", "Enlarged station 10R lymph node", "N1"),
    ("Right upper lobe carcinoma", "Enlarged station 11L lymph node", "N3"),
    ("Right upper lobe carcinoma", "Enlarged right paratracheal (4R) lymph node", "N2"),
    ("Left lower lobe carcinoma", "Enlarged 4R lymph node", "N3"),
    ("Left lower lobe carcinoma", "Enlarged subcarinal lymph node", "N2"),
    ("Left lower lobe carcinoma", "Enlarged station 5 lymph node", "N2"),
    ("Right lower lobe carcinoma", "Enlarged station 5 lymph node", "N3"),
    ("Left lower lobe carcinoma", "Enlarged contralateral mediastinal lymph node", "N3"),
    ("Left lower lobe carcinoma", "Enlarged right supraclavicular lymph node", "N3"),
    ("Left lower lobe carcinoma", "Enlarged mediastinal lymph nodes", "N+"),
    ("Left lower lobe carcinoma", "Enlarged hilar lymph node", "N+")])
def test_lung_hilar_n1_ipsilateral_mediastinal_n2_contralateral_or_supraclavicular_n3(primary, nodes, expected):
    assert _n(f"{primary}. {nodes}.") == expected


@pytest.mark.parametrize("nodes,expected", [
    ("Enlarged left axillary lymph node with cortical thickening", "N1"),
    ("Matted left axillary lymph nodes at levels I and II", "N2"),
    ("Enlarged left internal mammary lymph node. No axillary lymphadenopathy", "N2"),
    ("Enlarged left internal mammary lymph node and an enlarged left axillary lymph node", "N3"),
    ("Enlarged left infraclavicular lymph node", "N3"),
    ("Enlarged left axillary level III lymph node", "N3"),
    ("Enlarged left supraclavicular lymph node", "N3")])
def test_breast_level_i_ii_n1_matted_or_internal_mammary_n2_level_iii_or_supraclavicular_n3(nodes, expected):
    assert _n(f"Left breast carcinoma at 2 o'clock. {nodes}.") == expected


@pytest.mark.parametrize("nodes,expected", [
    ("Single enlarged left level II lymph node measuring 3.0 cm", "N1"),
    ("Single enlarged left level II lymph node measuring 3.1 cm", "N2"),
    ("Single enlarged left level II lymph node measuring 6.0 cm", "N2"),
    ("Single enlarged left level II lymph node measuring 6.1 cm", "N3"),
    ("Two enlarged left level II lymph nodes, the largest 1.5 cm", "N2"),
    ("Enlarged right level II lymph node, 1.2 cm", "N2"),
    ("Enlarged left level III lymph node, 2 cm, with extranodal extension", "N3"),
    ("Enlarged left level III lymph node", "N+"),
    ("Single 2.2 cm necrotic left level IB lymph node", "N1")])
def test_oral_cavity_by_side_size_and_count(nodes, expected):
    assert _n(f"Squamous cell carcinoma of the left lateral tongue. {nodes}.") == expected


@pytest.mark.parametrize("nodes,expected", [
    ("Multiple enlarged right level II lymph nodes, the largest 5 cm", "N1"),
    ("Enlarged left level II lymph node, 2 cm", "N2"),
    ("Enlarged right level II lymph node measuring 6.5 cm", "N3")])
def test_p16_positive_oropharynx_ipsilateral_n1_contralateral_n2_over_6_cm_n3(nodes, expected):
    assert _n(f"p16-positive carcinoma of the right tonsil. {nodes}.") == expected


def test_unknown_p16_oropharynx_is_staged_by_the_p16_negative_table():
    assert _n("Carcinoma of the right tonsil. Multiple enlarged right level II lymph nodes, the largest 2 cm.") == "N2"


def test_kidney_and_prostate_have_n1_only_and_nonregional_nodes_are_left_to_m():
    assert _n("Left renal cell carcinoma. Three enlarged left para-aortic lymph nodes.") == "N1"
    assert _n("Prostate cancer. Enlarged right obturator lymph node.") == "N1"
    assert _n("Prostate cancer. Enlarged para-aortic lymph nodes. No pelvic lymphadenopathy.") == "N0"


def test_only_nonregional_nodes_leave_n_open_and_the_rules_write_no_n_row():
    text = ("CT ABDOMEN\nCLINICAL HISTORY: Colon cancer staging.\nFINDINGS: Sigmoid wall thickening. Multiple "
            "enlarged retroperitoneal and para-aortic lymph nodes.")
    found = report_n(build_report("t", "r", text))
    assert found.value is None and "not of its regional chains" in found.reason
    assert _rows(text) == []


def test_insufficient_facts_give_no_category_and_a_reason_never_a_guess():
    found = report_n(build_report("t", "r", "CT\nFINDINGS: Gastric cancer. Enlarged perigastric lymph nodes."))
    assert found.value == "N+" and "number not stated" in found.reason
    silent = report_n(build_report("t", "r", "CT\nFINDINGS: Gastric cancer. No ascites."))
    assert silent.value is None and "states nothing" in silent.reason
    nothing = report_n(build_report("t", "r", "CT\nFINDINGS: Enlarged mediastinal lymph nodes."))
    assert nothing.value is None and nothing.reason.startswith("no primary site")


@pytest.mark.parametrize("name,cases", [("development", REPORTS), ("held-out", HELDOUT)])
def test_n_category_is_right_on_at_least_90_percent_of_the_hand_written_reports(name, cases):
    assert len(cases) >= 20 and all(case["id"].startswith("synthetic-ncat-") for case in cases)
    right = sum(report_n(build_report("synthetic", c["id"], c["text"])).value == c["n"] for c in cases)
    print(f"N category right on the {name} reports: {right}/{len(cases)}")
    assert right / len(cases) >= 0.9


def _rows(text: str) -> list[dict]:
    report = build_report("t", "r", text)
    instance = TASKS["n_staging"].instances(report)[0]
    answer = rule_answer(report, instance)
    return TASKS["n_staging"].rows(answer.result, instance, report) if answer else []


def test_a_stated_n_wins_and_the_row_records_the_computed_one_and_their_agreement():
    text = ("MRI PELVIS\nFINDINGS: Upper rectal tumour. Five suspicious mesorectal lymph nodes.\n"
            "IMPRESSION: Upper rectal cancer, cT3 N1.")
    [row] = _rows(text)
    assert (row["n_stage"], row["stage_prefix"], row["computed_stage"], row["agreement"], row["tnm_version"]) == \
        ("N1", None, "N2", "disagree", "AJCC 8th edition")
    assert row["computed_evidence"] == "Five suspicious mesorectal lymph nodes"
    [agreeing] = _rows(text.replace("cT3 N1", "ypT3 ypN2"))
    assert (agreeing["n_stage"], agreeing["stage_prefix"], agreeing["agreement"]) == ("N2", "yp", "agree")


def test_a_report_that_states_no_n_is_answered_by_the_computed_category_n_plus_included():
    [row] = _rows("CT CHEST\nFINDINGS: Left lower lobe mass. Enlarged subcarinal lymph node, 17 mm.")
    assert (row["n_stage"], row["agreement"], row["stage_prefix"]) == ("N2", "computed_only", None)
    [open_row] = _rows("CT ABDOMEN\nFINDINGS: Gastric cancer. Enlarged perigastric lymph nodes.")
    assert (open_row["n_stage"], open_row["agreement"]) == ("N+", "computed_only")
    assert _rows("CT ABDOMEN\nFINDINGS: Gastric cancer. No ascites.") == []


TWO_PRIMARIES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "oncology", "two_primaries_reports.yaml")


@pytest.mark.parametrize("case_id,expected", [
    ("synthetic-two-primaries-01", [("right upper lobe", "N1", "N1", "agree"), ("left breast", "N0", "N0", "agree")]),
    ("synthetic-two-primaries-03", [("right upper lobe", "N0", None, "stated_only"),
                                    ("left lower lobe", "N2", None, "stated_only")]),
    ("synthetic-two-primaries-04", [("sigmoid colon", "N2", None, "stated_only"), ("renal", "N0", "N0", "agree")])])
def test_each_staged_primary_is_computed_from_its_own_regional_nodes(case_id, expected):
    """Two primaries of one site (two lung primaries) leave the computed N open: their nodes cannot be
    told apart."""
    with open(TWO_PRIMARIES, encoding="utf-8") as fh:
        case = next(c for c in yaml.safe_load(fh) if c["id"] == case_id)
    rows = _rows(case["text"])
    assert [(r["site"], r["n_stage"], r["computed_stage"], r["agreement"]) for r in rows[1:]] == expected
    assert all(r["computed_reason"] for r in rows)
