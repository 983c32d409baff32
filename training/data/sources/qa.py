"""Question answering sources: MedQA-USMLE JSONL and Radialog-Instruct / LLaVA-Med conversation JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from training.data.records import InstructionRecord, Tier

#: MedQA questions kept for the radiology task: those that talk about imaging.
RADIOLOGY_TERMS = re.compile(r"x-ray|radiograph|\bCT\b|computed tomograph|\bMRI\b|magnetic resonance|ultraso|"
                             r"mammogra|imaging|scan\b|angiogra|fluorosc", re.I)


def medqa(path: str, radiology_only: bool = True) -> Iterator[InstructionRecord]:
    """MedQA-USMLE JSONL: question, options {A: ...}, answer (text), answer_idx."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if not line.strip():
                continue
            row = json.loads(line)
            question, answer = row.get("question", "").strip(), str(row.get("answer", "")).strip()
            if not question or not answer or (radiology_only and not RADIOLOGY_TERMS.search(question)):
                continue
            options = "\n".join(f"{k}. {v}" for k, v in sorted((row.get("options") or {}).items()))
            full = f"{question}\n{options}" if options else question
            yield InstructionRecord(id=f"medqa:{n}", task="radiology_qa", input=full, output=answer, source="medqa",
                                    tier=Tier.GOLD, context={"question": full})


def conversations(path: str, source: str, tier: Tier = Tier.SILVER) -> Iterator[InstructionRecord]:
    """LLaVA-style JSON list: {id, conversations: [{from: human, value}, {from: gpt, value}, ...]}."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    for item in data:
        turns = item.get("conversations", [])
        for i in range(0, len(turns) - 1, 2):
            human, reply = turns[i], turns[i + 1]
            if human.get("from") != "human" or reply.get("from") not in ("gpt", "assistant"):
                continue
            question = human["value"].replace("<image>", "").strip()
            answer = reply["value"].strip()
            if question and answer:
                yield InstructionRecord(id=f"{source}:{item.get('id')}:{i // 2}", task="radiology_qa", input=question,
                                        output=answer, source=source, tier=tier, context={"question": question})
