"""RadGraph / RadGraph-XL / RadGraph2 JSON -> NER and (RadGraph2) temporal comparison.

Published layout: a JSON object keyed by report id; each value has ``text`` and ``entities``
(id -> {tokens, label, start_ix, end_ix, relations}); test-set reports keep annotations under
``labeler_1`` / ``labeler_2``. RadGraph2 adds change entities labelled ``CHAN-*``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from radlite.tasks.ner import RADGRAPH_LABELS
from training.data.records import InstructionRecord, Tier

#: RadGraph2 change labels -> the five temporal classes (device placement changes are left out).
CHANGE_LABELS = {
    "CHAN-NC": "unchanged", "CHAN-CON-AP": "new", "CHAN-CON-WOR": "worsened", "CHAN-CON-IMP": "improved",
    "CHAN-CON-RES": "resolved", "CHAN-DEV-AP": "new", "CHAN-DEV-DISA": "resolved",
}


def _entities(report: dict) -> dict:
    if "entities" in report:
        return report["entities"]
    return report.get("labeler_1", {}).get("entities", {})


def _observation_of(entity: dict, entities: dict) -> str:
    """Text of the observation a change entity modifies, else the change entity's own tokens."""
    for _, target in entity.get("relations", []):
        other = entities.get(str(target))
        if other and other["label"].startswith("OBS"):
            return other["tokens"]
    return entity["tokens"]


def radgraph(path: str, source: str = "radgraph") -> Iterator[InstructionRecord]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    for rid, report in data.items():
        text = report.get("text", "").strip()
        entities = _entities(report)
        if not text or not entities:
            continue
        ordered = sorted(entities.values(), key=lambda e: (e["start_ix"], e["end_ix"]))
        pairs = [[e["tokens"], e["label"]] for e in ordered if e["label"] in RADGRAPH_LABELS]
        if pairs:
            yield InstructionRecord(id=f"{source}:{rid}", task="radiology_ner", input=text,
                                    output=json.dumps(pairs), source=source, tier=Tier.GOLD)
        changes = [[_observation_of(e, entities), CHANGE_LABELS[e["label"]]]
                   for e in ordered if e["label"] in CHANGE_LABELS]
        if changes:
            yield InstructionRecord(id=f"{source}:{rid}:temporal", task="temporal_comparison", input=text,
                                    output=json.dumps(changes), source=source, tier=Tier.GOLD)
