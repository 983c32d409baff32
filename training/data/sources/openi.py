"""Open-i's IU X-ray reports (indiana_reports.csv) and NegBio's hand-labelled findings for them.

Published columns: reports ``uid, MeSH, Problems, image, indication, comparison, findings,
impression``; NegBio gold ``filename`` (``CXR<uid>``) then one 0/1 column per ChestX-ray14 finding
and ``normal``; NegBio's test list holds one ``CXR<uid>`` per line. The data is CC BY-NC-ND 4.0 (as
stated by the publisher): read from where the user keeps it, never copied into this repository.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from radlite.report import Report, build_report

SOURCE = "iu-xray"
#: NegBio gold column -> CheXpert label (Mass and Nodule are both a Lung Lesion; normal is No Finding).
GOLD_TO_CHEXPERT = {
    "Atelectasis": "atelectasis", "Cardiomegaly": "cardiomegaly", "Effusion": "pleural effusion",
    "Pneumonia": "pneumonia", "Pneumothorax": "pneumothorax", "Consolidation": "consolidation", "Edema": "edema",
    "Mass": "lung lesion", "Nodule": "lung lesion", "normal": "no finding",
}
MAPPED_LABELS = tuple(dict.fromkeys(GOLD_TO_CHEXPERT.values()))
_SECTIONS = (("EXAMINATION", "image"), ("INDICATION", "indication"), ("COMPARISON", "comparison"),
             ("FINDINGS", "findings"), ("IMPRESSION", "impression"))


def report_key(uid: str) -> str:
    """NegBio's name for an Open-i report."""
    return f"CXR{uid}"


def report_text(row: dict) -> str:
    """The report as a headed text, the layout radlite reads from any export."""
    parts = ((header, (row.get(column) or "").strip()) for header, column in _SECTIONS)
    return "\n".join(f"{header}: {body}" for header, body in parts if body)


def read_reports(path: str) -> Iterator[tuple[str, Report, dict]]:
    """(NegBio key, Report, the CSV row) for every Open-i report with findings or an impression."""
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if (row.get("findings") or "").strip() or (row.get("impression") or "").strip():
                key = report_key(row["uid"])
                yield key, build_report(SOURCE, key, report_text(row)), row


def read_gold(path: str) -> dict[str, set[str]]:
    """NegBio key -> the CheXpert labels its hand-labelled findings map to (positive only)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["filename"]: {GOLD_TO_CHEXPERT[c] for c, v in row.items() if c in GOLD_TO_CHEXPERT and v == "1"}
                for row in csv.DictReader(fh)}


def read_test_ids(path: str) -> set[str]:
    """NegBio's fixed test list (never trained on, never tuned on)."""
    with open(path) as fh:
        return {line.strip() for line in fh if line.strip()}
