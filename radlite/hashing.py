"""The project's hashes in one place: stable ids, text digests, and memoised file digests."""

from __future__ import annotations

import hashlib
import os

_FILE_DIGESTS: dict[tuple, str] = {}


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stable_id(*parts: str) -> str:
    """16 hex digits that depend only on ``parts`` (NUL-separated): the same input gives the same id."""
    return text_sha256("\x00".join(parts))[:16]


def file_sha256(path: str) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) within the process."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]
