"""Exam lines that name a chest radiograph, as departments spell them.

``infer_modality`` (radlite/report.py) reads the modality from the exam line's words (x-ray, CXR,
PA and lateral ...); many departments write a chest radiograph's exam line with none of them
("CHEST TWO VIEWS", "XR CHEST", "CR CHEST", "CHEST, SINGLE VIEW"). This table names those
spellings. One entry per spelling family, each a regular expression matched on the whole exam line
(any case, any spacing); a line naming another modality (CT, MR, US, ...) is never a radiograph.
"""

from __future__ import annotations

import re

_VIEWS = r"(?:one|two|three|four|single|1|2|3|4|frontal|lateral|pa|ap|portable|upright|supine|semi-?upright)"
#: Chest radiograph exam-line spellings (spelling family -> pattern).
CHEST_RADIOGRAPH_HEADERS: dict[str, str] = {
    "CHEST TWO VIEWS / CHEST 2 VIEWS / CHEST, SINGLE VIEW": rf"chest\W+(?:{_VIEWS}\W+)*views?",
    "XR / CR / DX / DR CHEST (department codes for radiography)": r"(?:xr|cr|dx|dr|rad)\W+chest",
    "CHEST XR / CHEST CR": r"chest\W+(?:xr|cr|dx)",
    "CXR": r"cxr",
    "RADIOGRAPH(S) OF THE CHEST / CHEST RADIOGRAPH": r"(?:radiographs?|x-?\s?rays?|films?|roentgenogram)\W+(?:of\W+)?"
                                                    r"(?:the\W+)?chest|chest\W+(?:radiographs?|x-?\s?rays?|films?)",
    "PORTABLE CHEST (X-RAY) / PORTABLE AP CHEST": rf"portable\W+(?:(?:{_VIEWS})\W+)*chest",
    "CHEST PA/LAT / CHEST PA & LATERAL / CHEST AP": r"chest\W+(?:\(?\s*)(?:pa|ap)\b(?:\W+(?:and|&|/)?\W*lat\w*)?",
    "AP CHEST / PA AND LATERAL CHEST / FRONTAL AND LATERAL CHEST":
        rf"(?:{_VIEWS})(?:\W+(?:and|&|/)?\W*(?:{_VIEWS}))*\W+(?:views?\W+(?:of\W+)?(?:the\W+)?)?chest",
}
_ANY = re.compile(r"(?:^|\b)(?:" + "|".join(f"(?:{p})" for p in CHEST_RADIOGRAPH_HEADERS.values()) + r")\b", re.I)
_OTHER_MODALITY = re.compile(r"\b(?:CT|CTA|MRI?|MRA|PET|US|ultrasound|sonograph\w*|fluoro\w*|nuclear|SPECT|"
                             r"angiogra\w*|computed|magnetic)\b", re.I)


def names_chest_radiograph(exam_line: str) -> bool:
    """The exam line is one of the chest radiograph spellings and names no other modality."""
    line = (exam_line or "").strip()
    return bool(line) and bool(_ANY.search(line)) and not _OTHER_MODALITY.search(line)
