"""Find IU X-ray report text (CC BY-NC-ND 4.0) where it must not be: a wheel, docs/, any folder.

    python scripts/check_iu_text.py dist/radlite-0.1.0-py3-none-any.whl docs/ [--reports CSV]

Exit 0 when none is found, 1 with one line per hit (file, report key, the first words) otherwise,
2 when the reports file is missing. What counts as a report's text, from indiana_reports.csv:
its whole findings and whole impression (each of at least MIN_FIELD characters), and each of its
sentences of at least MIN_SENTENCE characters, when no other report shares them (a field or sentence
written the same way in many reports, such as "1. No acute cardiopulmonary abnormality.", is
radiology's common wording, not one report's text). Text is compared lower-cased with runs of
whitespace as one space; JSON files are compared by their decoded string values, so escaped
newlines and quotes do not hide a report.
Files with NUL bytes in their first 8 KiB (GGUF weights, images) are binary and skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTS = os.path.join(ROOT, "..", "shared", "data", "iu-xray", "indiana_reports.csv")
MIN_FIELD = 40
MIN_SENTENCE = 60
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def needles(reports_csv: str) -> dict[str, str]:
    """Normalised text -> the key (CXR<uid>) of the report it belongs to."""
    owner: dict[str, str] = {}
    seen: Counter = Counter()
    with open(reports_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = f"CXR{row['uid']}"
            for column in ("findings", "impression"):
                text = normalise(row.get(column) or "")
                pieces = {text} if len(text) >= MIN_FIELD else set()
                pieces |= {s for s in _SENTENCE_END.split(text) if len(s) >= MIN_SENTENCE}
                for piece in pieces:
                    seen[piece] += 1
                    owner.setdefault(piece, key)
    return {piece: key for piece, key in owner.items() if seen[piece] == 1}


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def searchable(name: str, data: bytes) -> str | None:
    """The file's text to search (None for a binary file)."""
    if b"\0" in data[:8192]:
        return None
    text = data.decode("utf-8", errors="replace")
    if name.endswith((".json", ".jsonl")):
        try:
            values = [json.loads(line) for line in text.splitlines() if line.strip()] if name.endswith(
                ".jsonl") else [json.loads(text)]
            text = "\n".join(s for v in values for s in _strings(v))
        except json.JSONDecodeError:
            pass
    return normalise(text)


def files(target: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file in a wheel/zip or under a folder, or the one file named."""
    if zipfile.is_zipfile(target):
        with zipfile.ZipFile(target) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield f"{target}!{info.filename}", archive.read(info)
    elif os.path.isdir(target):
        for folder, _, names in os.walk(target):
            for name in sorted(names):
                path = os.path.join(folder, name)
                with open(path, "rb") as fh:
                    yield path, fh.read()
    else:
        with open(target, "rb") as fh:
            yield target, fh.read()


def find(targets: list[str], reports_csv: str) -> list[tuple[str, str, str]]:
    """(file, report key, the first words of the text found) for every hit."""
    wanted = needles(reports_csv)
    hits = []
    for target in targets:
        for name, data in files(target):
            text = searchable(name, data)
            if text is None:
                continue
            hits += [(name, key, needle[:60]) for needle, key in wanted.items() if needle in text]
    return hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", help="wheels, zips, folders or files to search")
    parser.add_argument("--reports", default=REPORTS, help="indiana_reports.csv (default: ../shared/data/...)")
    args = parser.parse_args()
    if not os.path.exists(args.reports):
        print(f"check_iu_text: {args.reports} not found: nothing to compare against", file=sys.stderr)
        return 2
    hits = find(args.targets, args.reports)
    for name, key, start in hits:
        print(f"{name}: text of IU X-ray report {key}: {start!r}...")
    print(f"check_iu_text: {len(hits)} hit(s) of IU X-ray report text in {', '.join(args.targets)}",
          file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
