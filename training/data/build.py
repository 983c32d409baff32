"""`radlite train build-data`: every source -> curated splits + dataset card."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from functools import partial

from training.data.curation import CurationConfig, DatasetCard, card_markdown, curate, dataset_card
from training.data.records import InstructionRecord, Tier
from training.data.sources.chexbert import chexbert
from training.data.sources.merlin import merlin
from training.data.sources.multi_rads import multi_rads
from training.data.sources.openi import iu_xray, read_gold
from training.data.sources.qa import conversations, medqa
from training.data.sources.radgraph import radgraph
from training.data.sources.radnli import radnli
from training.data.sources.reports import ct_rate, mimic_cxr
from training.data.sources.synthetic import synthetic_records

#: Source kinds accepted by --source KIND=PATH.
SOURCES: dict[str, Callable[[str], Iterator[InstructionRecord]]] = {
    "mimic-cxr": mimic_cxr,
    "ct-rate": ct_rate,
    "radgraph": partial(radgraph, source="radgraph"),
    "radgraph-xl": partial(radgraph, source="radgraph-xl"),
    "radgraph2": partial(radgraph, source="radgraph2"),
    "chexbert": chexbert,
    "radnli": radnli,
    "merlin": merlin,
    "multi-rads": multi_rads,
    "medqa": medqa,
    "radialog": partial(conversations, source="radialog-instruct", tier=Tier.SILVER),
    "llava-med": partial(conversations, source="llava-med", tier=Tier.SILVER),
    "iu-xray": iu_xray,
    # NegBio's gold labels annotate the iu-xray source's abnormality records (they bring no text)
    "negbio-gold": lambda path: iter(()),
}


def parse_source(value: str) -> tuple[str, str]:
    kind, sep, path = value.partition("=")
    if not sep or kind not in SOURCES:
        raise ValueError(f"{value!r}: use KIND=PATH with KIND one of {', '.join(SOURCES)}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{kind}: {path} not found")
    return kind, path


def build_data(sources: list[tuple[str, str]], out_dir: str, synthetic: int = 0,
               config: CurationConfig = CurationConfig()) -> DatasetCard:
    """Convert, curate and write OUT/{train,train_weighted,validation,test}.jsonl and the card."""

    gold = next((read_gold(path) for kind, path in sources if kind == "negbio-gold"), None)

    def records() -> Iterator[InstructionRecord]:
        for kind, path in sources:
            yield from iu_xray(path, gold) if kind == "iu-xray" else SOURCES[kind](path)
        if synthetic:
            yield from synthetic_records(synthetic, seed=config.seed)

    result = curate(records(), config)
    os.makedirs(out_dir, exist_ok=True)
    for name, split in result.splits.items():
        with open(os.path.join(out_dir, f"{name}.jsonl"), "w") as fh:
            for record in split:
                fh.write(json.dumps(record.model_dump(mode="json")) + "\n")
    card = dataset_card(result)
    with open(os.path.join(out_dir, "dataset_card.json"), "w") as fh:
        fh.write(card.model_dump_json(indent=1))
    with open(os.path.join(out_dir, "dataset_card.md"), "w") as fh:
        fh.write(card_markdown(card))
    return card


def load_split(path: str) -> list[InstructionRecord]:
    with open(path) as fh:
        return [InstructionRecord(**json.loads(line)) for line in fh if line.strip()]
