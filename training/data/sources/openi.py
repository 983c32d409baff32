"""Open-i's IU X-ray reports (indiana_reports.csv) and NegBio's hand-labelled findings for them.

Converters: ``--source iu-xray=indiana_reports.csv`` (with ``--source negbio-gold=
openi_gld_std14.csv`` for gold abnormality labels) and ``--test-ids openi-testset.txt``.

Published columns: reports ``uid, MeSH, Problems, image, indication, comparison, findings,
impression``; NegBio gold ``filename`` (``CXR<uid>``) then one 0/1 column per ChestX-ray14 finding
and ``normal``; NegBio's test list holds one ``CXR<uid>`` per line. The data is CC BY-NC-ND 4.0 (as
stated by the publisher): read from where the user keeps it, never copied into this repository.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from radlite.chexpert import label_report
from radlite.report import Report, build_report
from radlite.rules.temporal import stated_changes
from radlite.tasks import TASKS
from radlite.tasks.abnormality import CHEXPERT_LABELS, AbnormalityResult
from radlite.tasks.temporal import mentions_prior
from training.data.records import InstructionRecord, Tier

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


def _abnormality_answer(report: Report, gold: set[str] | None) -> tuple[str, Tier, dict[str, Tier]]:
    """The abnormality answer for one report: NegBio's gold for the labels it covers (positive when
    labelled, else the rules' negative or uncertain, else not mentioned), the rules for the rest.
    Its tier is silver, since the rules give part of every answer; the labels whose positive-vs-not
    is NegBio's are gold in the per-label tiers."""
    stated = label_report(report)
    labels = {name: stated[name].status if stated[name] else "not_mentioned" for name in CHEXPERT_LABELS}
    if gold is not None:
        for name in MAPPED_LABELS:
            if name in gold:
                labels[name] = "positive"
            elif labels[name] == "positive":
                labels[name] = "not_mentioned"
    tiers = {name: Tier.GOLD if gold is not None and name in MAPPED_LABELS else Tier.SILVER for name in CHEXPERT_LABELS}
    return TASKS["abnormality_detection"].answer(AbnormalityResult(labels=labels)), Tier.SILVER, tiers


def iu_xray(path: str, gold: dict[str, set[str]] | None = None) -> Iterator[InstructionRecord]:
    """Open-i reports -> impression generation (findings -> impression, gold), abnormality detection
    (silver records: per label, NegBio's gold for positive-vs-not on the labels it covers, the rules
    otherwise) and temporal comparison (the rules' stated changes, silver). Every record keeps its
    report's key, for the fixed test list."""
    for key, report, row in read_reports(path):
        findings, impression = (row.get("findings") or "").strip(), (row.get("impression") or "").strip()
        common = {"source": SOURCE, "report_key": key}
        if findings and impression:
            yield InstructionRecord(id=f"{SOURCE}:{key}:impression", task="impression_generation", input=findings,
                                    output=impression, tier=Tier.GOLD, **common)
        answer, tier, label_tiers = _abnormality_answer(report, gold.get(key) if gold is not None else None)
        yield InstructionRecord(id=f"{SOURCE}:{key}:abnormality", task="abnormality_detection", input=report.text,
                                output=answer, tier=tier, label_tiers=label_tiers, **common)
        changes = stated_changes(report)
        if changes and mentions_prior(report):
            yield InstructionRecord(id=f"{SOURCE}:{key}:temporal", task="temporal_comparison",
                                    input=TASKS["temporal_comparison"].input_text(report),
                                    output=TASKS["temporal_comparison"].answer(changes[0]), tier=Tier.SILVER,
                                    **common)
