"""RadNLI JSONL (pair_id, sentence1 = premise, sentence2 = hypothesis, gold_label) -> NLI."""

from __future__ import annotations

import json
from collections.abc import Iterator

from radlite.tasks.nli import NLI_LABELS
from training.data.records import InstructionRecord, Tier


def radnli(path: str) -> Iterator[InstructionRecord]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("gold_label") not in NLI_LABELS:
                continue
            premise, hypothesis = row["sentence1"].strip(), row["sentence2"].strip()
            yield InstructionRecord(
                id=f"radnli:{row['pair_id']}", task="radiology_nli",
                input=f"Premise: {premise}\nHypothesis: {hypothesis}", output=row["gold_label"],
                source="radnli", tier=Tier.GOLD, context={"premise": premise, "hypothesis": hypothesis})
