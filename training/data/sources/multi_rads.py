"""Multi-RADS style exports (CSV or JSONL with a report and its RADS label) -> RADS assignment.

Labels are normalized with the pipeline's own RADS normalizer; rows whose label does not
normalize fail the valid-label check and are skipped. The tier follows the row's origin:
expert-collected reports are gold, synthetic ones silver, LLM-assigned (PMC) labels bronze.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from radlite.tasks import ParseError
from radlite.tasks.rads import normalize_rads
from training.data.records import InstructionRecord, Tier

TIER_BY_ORIGIN = {"expert": Tier.GOLD, "clinical": Tier.GOLD, "synthetic": Tier.SILVER, "pmc": Tier.BRONZE,
                  "llm": Tier.BRONZE}


def _rows(path: str) -> Iterator[dict]:
    if path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as fh:
            yield from (json.loads(line) for line in fh if line.strip())
    else:
        with open(path, newline="", encoding="utf-8") as fh:
            yield from csv.DictReader(fh)


def multi_rads(path: str, text_field: str = "report", label_field: str = "rads_label",
               origin_field: str = "origin") -> Iterator[InstructionRecord]:
    for n, row in enumerate(_rows(path)):
        text = (row.get(text_field) or "").strip()
        try:
            label = normalize_rads(str(row.get(label_field) or "")).label
        except ParseError:
            continue
        if not text:
            continue
        origin = str(row.get(origin_field) or "pmc").lower()
        yield InstructionRecord(id=f"multi-rads:{row.get('id', n)}", task="rads_assignment", input=text, output=label,
                                source="multi-rads", tier=TIER_BY_ORIGIN.get(origin, Tier.BRONZE),
                                synthetic=origin == "synthetic")
