"""A smoke set the project may ship: every record SYNTHETIC, none taken from a licensed corpus.

    python -m training.data.smoke_set radlite/routing/embedded-smoke.jsonl [--seed 7]

`radlite train route --smoke-set` copies a validation split beside a routing table; when that split
holds real reports (IU X-ray is CC BY-NC-ND 4.0), the table cannot ship inside the Apache-2.0
package. This rewrites such a file in place: its synthetic records stay as they are and each task's
real records are replaced by the same number of SYNTHETIC records of that task, generated with
``training/data/synthetic_reports.py`` under a seed of their own and ids ``synthetic-smoke-*`` (so
they are never the training corpus's records, which use seed 42 and ``synthetic-*`` ids).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from training.data.build import load_split
from training.data.records import InstructionRecord
from training.data.sources.synthetic import synthetic_records

SMOKE_SEED = 7
ID_PREFIX = "synthetic-smoke-"


def synthetic_replacements(wanted: Counter, seed: int = SMOKE_SEED) -> list[InstructionRecord]:
    """``wanted[task]`` SYNTHETIC records per task, from as many generated reports as that takes."""
    out: list[InstructionRecord] = []
    left = Counter(wanted)
    n_reports = 16
    while +left:
        out, left = [], Counter(wanted)
        for record in synthetic_records(n_reports, seed=seed):
            if left[record.task] > 0:
                left[record.task] -= 1
                out.append(record.model_copy(update={"id": ID_PREFIX + record.id.removeprefix("synthetic-"),
                                                     "split": "smoke"}))
        if n_reports > 100_000:
            raise ValueError(f"the synthetic generator writes no records for {', '.join(+left)}")
        n_reports *= 2
    return out


def shippable(records: list[InstructionRecord], seed: int = SMOKE_SEED) -> list[InstructionRecord]:
    """The same per-task counts with every real record replaced by a synthetic one, in task order."""
    kept = [r for r in records if r.synthetic]
    added = synthetic_replacements(Counter(r.task for r in records if not r.synthetic), seed)
    order = list(dict.fromkeys(r.task for r in records))
    return sorted(kept + added, key=lambda r: order.index(r.task))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="Smoke set (JSONL of instruction records) to rewrite in place.")
    parser.add_argument("--seed", type=int, default=SMOKE_SEED)
    args = parser.parse_args()
    records = shippable(load_split(args.path), args.seed)
    with open(args.path, "w") as fh:
        for record in records:
            fh.write(json.dumps(record.model_dump(mode="json"), separators=(",", ":")) + "\n")
    counts = Counter(r.task for r in records)
    print(f"{args.path}: {len(records)} records, all synthetic: " + ", ".join(f"{t} {n}" for t, n in counts.items()))


if __name__ == "__main__":
    main()
