"""The Report record: one accepted radiology report with its provenance and sections."""

from __future__ import annotations

import re
from enum import Enum

from pydantic import Field

from radlite.hashing import stable_id, text_sha256
from radlite.text.dates import header_date
from radlite.text.exam_headers import names_chest_radiograph
from radlite.text.sections import SectionTexts, parse_sections


class Modality(str, Enum):
    """The modality codes a report can be given."""

    XR = "XR"
    CT = "CT"
    MR = "MR"
    US = "US"
    MG = "MG"
    PET = "PET"
    NM = "NM"


def _compiled(patterns: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern, re.I)) for name, pattern in patterns)


MODALITY_PATTERNS = _compiled((
    ("PET", r"\bPET\b|\bpet[- /]ct\b|positron"),
    ("MG", r"mammo|\bmammogra|tomosynthesis"),
    ("CT", r"\bCT\b|\bCTA\b|\b(?:HR|NC|CE|LD)CT\b|\bCTPA\b|\bCTU\b|\bCTKUB\b|computed tomograph|\bcat scan"),
    ("MR", r"\bMRI?\b|\bMRA\b|magnetic resonance|\bmp-?mri\b"),
    ("US", r"\bUS\b|\bUSG\b|ultraso|sonogra|doppler|\becho"),
    # Fluoroscopy and bone densitometry (DEXA) are X-ray studies too; the codes have no RF or BMD.
    ("XR", r"x-?ray|radiograph|\bCXR\b|\bXR\b|\bfluoro|\bDE?XA\b|densitometr|"
           r"\b(?:PA|AP) (?:and|&|/) ?lat|\bAP (?:upright|portable|supine)|"
           r"\bportable (?:chest|AP|PA)\b|\bchest,? \d views?|\bchest \((?:portable |pa|ap)|\bchest (?:pa|ap)\b"),
    ("NM", r"\bNM\b|scintigra|nuclear medicine|\bSPECT\b|bone scan"),
))

BODY_REGION_PATTERNS = _compiled((
    # A whole-body study has no one region; matched first so a history's organ does not name one.
    ("unknown", r"whole[- ]body|total[- ]body|skull base to|vertex to"),
    ("breast", r"breast|mammo"),
    ("prostate", r"prostat"),
    ("thyroid", r"thyroid"),
    ("heart", r"coronary|cardiac ct|\bCCTA\b|cardiac mri"),
    ("bladder", r"(?<!gall)(?<!gall )bladder"),
    ("head", r"\bhead\b|brain|cranial|(?<!femoral )\bneck\b|sinus"),
    ("spine", r"spine|lumbar|cervical spine|thoracic spine"),
    ("chest", r"chest|thora|lung|\bCXR\b|pulmonary|\bCTPA\b|\bHRCT\b"),
    ("abdomen", r"abdom|\babd\b|pelvi|liver|hepat|gallbladder|kidney|renal|pancrea|ovar|adnex|uter"),
    ("extremity", r"knee|shoulder|hip\b|ankle|wrist|hand\b|foot\b|femur|humerus|extremit"),
))


def make_report_id(source: str, locator: str) -> str:
    """Stable 16-hex-digit id from where the report came from (same input, same id)."""
    return stable_id(source, locator)


def _first_match(patterns: tuple[tuple[str, re.Pattern[str]], ...], *texts: str) -> str:
    """Name of the first pattern found, searching the texts in priority order."""
    for text in texts:
        if not text:
            continue
        for name, pattern in patterns:
            if pattern.search(text):
                return name
    return "unknown"


#: What only a chest radiograph report reads like, for reports that carry no exam line at all.
_CHEST_RADIOGRAPH_CONTENT = re.compile(
    r"cardiomediastinal|cardiac silhouette|heart size|costophrenic|lungs are (?:clear|well expanded)|"
    r"no (?:focal )?(?:airspace|consolidation)|pneumothorax", re.I)
_CROSS_SECTIONAL = re.compile(r"\b(?:CT|CTA|MRI?|PET|axial|contrast|sequences?|T[12]-weighted|hounsfield)\b", re.I)


def reads_like_chest_radiograph(text: str) -> bool:
    """Words only a chest radiograph report uses, and none of a cross-sectional study's."""
    return bool(_CHEST_RADIOGRAPH_CONTENT.search(text)) and not _CROSS_SECTIONAL.search(text)


def infer_modality(exam_line: str, text: str) -> str:
    """Modality code (XR, CT, MR, US, MG, PET, NM) from the exam line, else the report head; a report
    with no word of its modality that reads like a chest radiograph (and like no cross-sectional
    study) is XR."""
    modality = _first_match(MODALITY_PATTERNS, exam_line)
    if modality == "unknown" and names_chest_radiograph(exam_line):
        return "XR"
    if modality == "unknown":
        modality = _first_match(MODALITY_PATTERNS, text[:400])
    if modality == "unknown" and reads_like_chest_radiograph(text):
        return "XR"
    return modality


def infer_body_region(exam_line: str, text: str) -> str:
    """Body region from the exam line, else the report head."""
    return _first_match(BODY_REGION_PATTERNS, exam_line, text[:400])


def _or_given(inferred: str, given: str | None) -> str:
    return given if inferred == "unknown" and given else inferred


class Report(SectionTexts):
    """An accepted report: where it came from, what it is, its text and its sections.
    ``report_id`` is deterministic from ``source`` and ``locator``."""

    report_id: str
    source: str
    locator: str
    patient_id: str | None = None
    study_id: str | None = None
    study_date: str | None = None
    modality: str = "unknown"
    body_region: str = "unknown"
    text: str = Field(min_length=1)
    text_sha256: str
    has_section_headers: bool = False
    #: FHIR DiagnosticReport.status of this version (preliminary, final, corrected, ...) when the source
    #: says (HL7 OBR-25, radlite.io.hl7.RESULT_STATUS); None when it does not.
    result_status: str | None = None


def build_report(source: str, locator: str, text: str, *, patient_id: str | None = None,
                 study_id: str | None = None, study_date: str | None = None, exam: str | None = None,
                 modality: str | None = None, result_status: str | None = None) -> Report:
    """Parse sections and infer modality, region and date for one decoded report text.

    ``exam`` is an exam description kept outside the text (an export's exam column); ``modality``
    is the user's word for reports whose modality cannot be inferred (--modality). The report's
    ``examination`` is the exam as the source names it (``exam``) when given, else the text's
    EXAMINATION line: the name exports show (FHIR code.text, OMOP note_title).
    """
    sections = parse_sections(text)
    exam_line = exam or sections.examination or text.strip().splitlines()[0]
    return Report(
        report_id=make_report_id(source, locator),
        source=source,
        locator=locator,
        patient_id=patient_id,
        study_id=study_id,
        study_date=study_date or header_date(text),
        modality=_or_given(infer_modality(exam_line, text), modality),
        body_region=infer_body_region(exam_line, text),
        text=text,
        text_sha256=text_sha256(text),
        has_section_headers=sections.has_headers,
        result_status=result_status,
        **(sections.section_texts() | ({"examination": exam.strip()} if exam and exam.strip() else {})),
    )
