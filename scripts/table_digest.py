"""Digest every output table of a run folder, to show a restructuring left the tables unchanged.

Usage: python scripts/table_digest.py OUT [--compare DIGEST.json] [--ignore COLUMN ...]

Prints one JSON object: per table its column names and types, its row count and a SHA-256 over
its rows in a canonical order. Columns that differ on every run by design (run ids, clock times,
the `runs` table's timings) are left out, so two runs of the same code on the same machine give
the same digest. With --compare it exits 1 naming each table whose digest differs. --ignore leaves
more columns out, e.g. the rules' `model_id` and `prompt_sha256`, a hash of the rules' source that
changes with any edit to a module the rules import, by design. Report and reject ids hash the input's
absolute path: compare runs made from the same checkout folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import pyarrow.dataset as ds

PER_RUN_COLUMNS = {"run_id", "reviewed_at"}
PER_RUN_TABLES = {"runs"}


def table_digest(folder: Path, ignored: frozenset[str] = frozenset()) -> dict:
    """Schema, row count and an order-free hash of one table's rows."""
    table = ds.dataset(folder, format="parquet").to_table()
    kept = [name for name in table.column_names if name not in PER_RUN_COLUMNS | ignored]
    table = table.select(kept)
    rows = sorted(json.dumps(row, sort_keys=True, default=str) for row in table.to_pylist())
    return {
        "columns": [f"{field.name}:{field.type}" for field in table.schema],
        "rows": len(rows),
        "sha256": hashlib.sha256("\n".join(rows).encode()).hexdigest(),
    }


def run_digest(out: Path, ignored: frozenset[str] = frozenset()) -> dict:
    """Every table under OUT/tables except those that record the run itself."""
    folders = sorted(p for p in (out / "tables").iterdir() if p.is_dir() and p.name not in PER_RUN_TABLES)
    return {folder.name: table_digest(folder, ignored) for folder in folders if any(folder.rglob("*.parquet"))}


def differences(before: dict, after: dict) -> list[str]:
    """Names of tables added, removed or changed between two digests."""
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a run's output folder (radlite run --out)")
    parser.add_argument("--compare", type=Path, help="a digest written earlier by this script")
    parser.add_argument("--ignore", nargs="*", default=[], help="more columns to leave out (both digests)")
    args = parser.parse_args(argv)
    digest = run_digest(args.out, frozenset(args.ignore))
    print(json.dumps(digest, indent=1, sort_keys=True))
    if args.compare:
        changed = differences(json.loads(args.compare.read_text()), digest)
        for name in changed:
            print(f"differs: {name}", file=sys.stderr)
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
