"""Merlin abdominal CT reports -> N and M staging, by screening for explicit descriptors.

As the paper describes, only reports with an explicit lymph-node (N) or distant-metastasis (M)
descriptor are kept; labels are therefore silver (rule-derived). The screening rules are here as
code so anyone can audit them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from training.data.records import InstructionRecord, Tier

_N0 = re.compile(r"\bno (?:\w+ ){0,3}(?:lymphadenopathy|adenopathy|enlarged (?:\w+ )?(?:lymph )?nodes?)\b", re.I)
_N2 = re.compile(r"\b(?:multiple|numerous|several|bulky|conglomerate)\b[^.]{0,60}\b(?:lymph nodes|nodes|"
                 r"lymphadenopathy)\b|\blymphadenopathy\b(?![^.]{0,30}\b(?:single|one)\b)", re.I)
_N1 = re.compile(r"\b(?:single|an?|one) (?:\w+ ){0,3}enlarged (?:\w+ )?(?:lymph )?node\b", re.I)
_M0 = re.compile(r"\bno (?:\w+ ){0,3}(?:evidence of )?(?:distant )?metasta", re.I)
_M1 = re.compile(r"\b(?:metastas[ie]s|metastatic (?:disease|lesions?|deposits?))\b", re.I)


def screen_n_stage(text: str) -> str | None:
    """N0 / N1 / N2 from explicit node descriptors; None when the report does not say."""
    if _N0.search(text):
        return "N0"
    if _N1.search(text):
        return "N1"
    if _N2.search(text):
        return "N2"
    return None


def screen_m_stage(text: str) -> str | None:
    if _M0.search(text):
        return "M0"
    if _M1.search(text):
        return "M1"
    return None


def merlin(path: str, id_column: str = "study id", text_column: str = "Findings") -> Iterator[InstructionRecord]:
    """Merlin reports CSV (one row per CT study: id and findings text)."""
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = (row.get(text_column) or "").strip()
            rid = row.get(id_column, "")
            if not text:
                continue
            for task, stage in (("n_staging", screen_n_stage(text)), ("m_staging", screen_m_stage(text))):
                if stage:
                    yield InstructionRecord(id=f"merlin:{rid}:{task}", task=task, input=text, output=stage,
                                            source="merlin", tier=Tier.SILVER)
