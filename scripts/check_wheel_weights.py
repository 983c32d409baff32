"""Find model weights a wheel must not ship: any file whose bytes are those of a weights file kept
apart from the package because of what it was trained on (an adapter trained on CC BY-NC-ND text).

    python scripts/check_wheel_weights.py dist/radlite-0.1.0-py3-none-any.whl [--apart adapters/]

The weights kept apart are the .gguf files in the folders under ``--apart`` (default: the checkout's
adapters/, one folder per artefact with its own LICENSE; docs/models.md, "Adapters installed apart").
A file is compared by its sha256, so a renamed copy is found too. Exit 0 when the wheel holds none,
1 with one line per hit, 2 when there is nothing to compare against.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APART = os.path.join(ROOT, "adapters")


def kept_apart(folder: str) -> dict[str, str]:
    """sha256 -> path of every .gguf under ``folder``."""
    found = {}
    for where, _, names in os.walk(folder):
        for name in sorted(n for n in names if n.endswith(".gguf")):
            path = os.path.join(where, name)
            with open(path, "rb") as fh:
                found[hashlib.file_digest(fh, "sha256").hexdigest()] = path
    return found


def shipped_copies(wheel: str, apart: dict[str, str]) -> list[tuple[str, str]]:
    """(member of the wheel, the weights file kept apart it is a copy of) for every hit."""
    hits = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                digest = hashlib.sha256(archive.read(info)).hexdigest()
                if digest in apart:
                    hits.append((info.filename, apart[digest]))
    return hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel")
    parser.add_argument("--apart", default=APART, help="folder of the weights kept out of the wheel")
    args = parser.parse_args()
    apart = kept_apart(args.apart) if os.path.isdir(args.apart) else {}
    if not apart:
        print(f"check_wheel_weights: no .gguf under {args.apart}: nothing to compare against", file=sys.stderr)
        return 2
    hits = shipped_copies(args.wheel, apart)
    for member, source in hits:
        print(f"{args.wheel}!{member}: a copy of {os.path.relpath(source, ROOT)}, which is kept out of the wheel")
    print(f"check_wheel_weights: {len(hits)} weights file(s) kept apart found in {args.wheel}", file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
