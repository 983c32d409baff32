import pytest

from radlite.report import (
    build_report,
    infer_body_region,
    infer_modality,
)
from radlite.text.sections import parse_sections

MIMIC = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with new onset ascites  // eval for infection

 TECHNIQUE:  Chest PA and lateral

 COMPARISON:  None.

 FINDINGS:

 There is no focal consolidation, pleural effusion or pneumothorax.  Bilateral
 nodular opacities that most likely represent nipple shadows.

 IMPRESSION:

 No acute cardiopulmonary process.
"""


def test_mimic_style_headers_split_into_canonical_sections():
    s = parse_sections(MIMIC)
    assert s.has_headers
    assert s.examination == "CHEST (PA AND LAT)"
    assert s.technique == "Chest PA and lateral"
    assert s.comparison == "None."
    assert s.findings.startswith("There is no focal consolidation")
    assert "nipple shadows" in s.findings
    assert s.impression == "No acute cardiopulmonary process."
    assert "ascites" in s.indication


@pytest.mark.parametrize("text", [
    "Findings\nHeart is normal.\n\nImpression\nNormal chest.",
    "findings: Heart is normal.\nimpression: Normal chest.",
    "FINDINGS:Heart is normal.\nCONCLUSION: Normal chest.",
    "Heart is normal. IMPRESSION: Normal chest.",
    "  Findings :  Heart is normal.\n  Impressions:\n Normal chest.",
])
def test_header_variants(text):
    s = parse_sections(text)
    assert s.findings == "Heart is normal."
    assert s.impression == "Normal chest."


def test_history_and_reason_map_to_indication():
    s = parse_sections("CLINICAL HISTORY: cough.\nREASON FOR EXAMINATION: fever.\nFINDINGS: clear.")
    assert s.indication == "cough.\nfever."
    assert s.findings == "clear."


def test_report_without_headers_is_all_findings():
    s = parse_sections("The lungs are clear. No effusion.")
    assert not s.has_headers
    assert s.findings == "The lungs are clear. No effusion."
    assert s.impression == ""


def test_word_inside_a_sentence_is_not_a_header():
    s = parse_sections("FINDINGS: The impression of the heart on the lung is normal. History of smoking noted.")
    assert s.impression == ""
    assert s.indication == ""
    assert "History of smoking" in s.findings


def test_notification_goes_to_other():
    s = parse_sections("FINDINGS: clear.\nNOTIFICATION: discussed with Dr. ___.\nIMPRESSION: normal.")
    assert "discussed" in s.other
    assert s.impression == "normal."


@pytest.mark.parametrize("exam,modality,region", [
    ("CHEST (PA AND LAT)", "XR", "chest"),
    ("CT ABDOMEN AND PELVIS WITH CONTRAST", "CT", "abdomen"),
    ("MRI PROSTATE MULTIPARAMETRIC", "MR", "prostate"),
    ("ULTRASOUND THYROID", "US", "thyroid"),
    ("BILATERAL DIAGNOSTIC MAMMOGRAM", "MG", "breast"),
    ("PET/CT SKULL BASE TO THIGH", "PET", "unknown"),
    ("Portable chest radiograph", "XR", "chest"),
    ("Something else", "unknown", "unknown"),
])
def test_modality_and_region_from_exam_line(exam, modality, region):
    assert infer_modality(exam, "") == modality
    assert infer_body_region(exam, "") == region


def test_report_id_is_stable_and_depends_on_source_and_locator():
    a = build_report("src.zip", "files/p10/p1/s1.txt", "FINDINGS: x")
    b = build_report("src.zip", "files/p10/p1/s1.txt", "FINDINGS: y")
    c = build_report("other.zip", "files/p10/p1/s1.txt", "FINDINGS: x")
    assert a.report_id == b.report_id != c.report_id
    assert a.text_sha256 != b.text_sha256


def _study_date(text: str) -> str | None:
    return build_report("src", "r.txt", text).study_date


def test_study_date_from_header_line():
    assert _study_date("EXAM DATE: 03/04/2021\nFINDINGS: x") == "2021-03-04"
    assert _study_date("Date: 2020-01-31") == "2020-01-31"
    assert _study_date("FINDINGS: nothing dated") is None
