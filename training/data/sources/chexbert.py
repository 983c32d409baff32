"""CheXbert-labelled report CSV -> abnormality detection (14 labels; 1 / 0 / -1 / blank)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from radlite.tasks.abnormality import CHEXPERT_LABELS
from training.data.records import InstructionRecord, Tier

_VALUES = {"1": "positive", "1.0": "positive", "0": "negative", "0.0": "negative", "-1": "uncertain",
           "-1.0": "uncertain"}


def chexbert(path: str, text_column: str = "Report Impression", id_column: str | None = None
             ) -> Iterator[InstructionRecord]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = {c.lower(): c for c in reader.fieldnames or []}
        for n, row in enumerate(reader):
            text = (row.get(text_column) or "").strip()
            if not text:
                continue
            labels = {}
            for label in CHEXPERT_LABELS:
                value = (row.get(columns.get(label, ""), "") or "").strip()
                if value in _VALUES:
                    labels[label] = _VALUES[value]
            rid = row.get(id_column) if id_column else str(n)
            yield InstructionRecord(id=f"chexbert:{rid}", task="abnormality_detection", input=text,
                                    output=json.dumps(labels, separators=(",", ":")), source="mimic-cxr-chexbert",
                                    tier=Tier.SILVER)
