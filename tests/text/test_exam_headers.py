"""Chest radiograph exam lines as departments spell them (radlite/text/exam_headers.py)."""

from __future__ import annotations

import pytest

from radlite.report import build_report, infer_body_region, infer_modality
from radlite.tasks import TASKS
from radlite.text.exam_headers import CHEST_RADIOGRAPH_HEADERS, names_chest_radiograph

CHEST_RADIOGRAPHS = ["CHEST TWO VIEWS", "CHEST 2 VIEWS", "Chest, single view", "CHEST 1 VIEW", "XR CHEST",
                     "CR CHEST", "DX CHEST 2V", "CXR", "RADIOGRAPH OF THE CHEST", "Radiographs of the chest",
                     "PORTABLE CHEST X-RAY", "PORTABLE AP CHEST", "CHEST PA/LAT", "CHEST PA & LATERAL", "CHEST AP",
                     "AP CHEST", "FRONTAL AND LATERAL CHEST", "PA AND LATERAL VIEWS OF THE CHEST", "CHEST FILM",
                     "CHEST X RAY", "EXAM: CHEST TWO VIEWS"]
NOT_RADIOGRAPHS = [("CT CHEST WITH CONTRAST", "CT"), ("MRI CHEST", "MR"), ("CHEST WALL ULTRASOUND", "US"),
                   ("CTA CHEST PE PROTOCOL", "CT"), ("CHEST", "unknown")]


@pytest.mark.parametrize("exam", CHEST_RADIOGRAPHS)
def test_chest_radiograph_spellings_are_xr_chest(exam):
    assert (infer_modality(exam, ""), infer_body_region(exam, "")) == ("XR", "chest")


@pytest.mark.parametrize("exam,modality", NOT_RADIOGRAPHS)
def test_other_exam_lines_keep_their_modality(exam, modality):
    assert infer_modality(exam, "") == modality
    assert not names_chest_radiograph(exam)


def test_a_comparison_ct_in_the_text_does_not_override_the_exam_line():
    report = build_report("t", "r", "EXAMINATION: CHEST TWO VIEWS\nCOMPARISON: CT chest 2019.\n"
                                    "FINDINGS: Acute right 6th rib fracture. 8 mm nodule in the left upper lobe.")
    assert (report.modality, report.body_region) == ("XR", "chest")


def test_a_chest_two_views_report_gets_an_abnormality_row():
    report = build_report("t", "r", "CHEST TWO VIEWS\nFINDINGS: Acute right 6th rib fracture. 8 mm nodule in the "
                                    "left upper lobe.")
    assert TASKS["abnormality_detection"].skip_reason(report) is None


def test_the_table_names_each_spelling_family():
    assert len(CHEST_RADIOGRAPH_HEADERS) >= 6 and all(CHEST_RADIOGRAPH_HEADERS.values())
