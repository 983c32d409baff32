"""MIMIC-CXR report archives and CT-RATE CSV exports -> impression generation (findings -> impression)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from radlite.io.validate import accepted_reports
from training.data.records import InstructionRecord, Tier


def _impression_record(source: str, rid: str, findings: str, impression: str) -> InstructionRecord | None:
    findings, impression = findings.strip(), impression.strip()
    if not findings or not impression:
        return None
    return InstructionRecord(id=f"{source}:{rid}", task="impression_generation", input=findings, output=impression,
                             source=source, tier=Tier.GOLD)


def mimic_cxr(path: str) -> Iterator[InstructionRecord]:
    """MIMIC-CXR reports (zip or folder, files/pNN/pNNNNNNNN/sNNNNNNNN.txt) split by the section parser."""
    for report in accepted_reports([path]):
        if report.has_section_headers:
            record = _impression_record("mimic-cxr", report.study_id or report.locator, report.findings,
                                        report.impression)
            if record:
                yield record


def ct_rate(path: str) -> Iterator[InstructionRecord]:
    """CT-RATE radiology_text_reports CSV: VolumeName, Findings_EN, Impressions_EN."""
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            record = _impression_record("ct-rate", row["VolumeName"], row.get("Findings_EN") or "",
                                        row.get("Impressions_EN") or "")
            if record:
                yield record
