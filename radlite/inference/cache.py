"""Result cache: a model output is reused whenever model, adapters, exact prompt and decoding match.

Templated normal reports repeat verbatim in real backlogs, and reruns after a crash repeat work;
neither costs inference twice. SQLite in WAL mode lets several worker processes share one file.
An output is kept with its tokens' log-probabilities, so a cached answer's values keep their confidence
(radlite.confidence); an entry written before they were kept has none.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import NamedTuple

from radlite.hashing import text_sha256


def cache_key(identity: dict, prompt_text: str, decoding: dict) -> str:
    return text_sha256(json.dumps([identity, prompt_text, decoding], sort_keys=True))


class CachedOutput(NamedTuple):
    """A kept output and its (token log-probabilities, token end offsets), None when they were not kept."""

    text: str
    scores: tuple[list[float], list[int]] | None


class ResultCache:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self._con = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")  # a lost entry on power failure only costs a rerun
        self._con.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, output TEXT NOT NULL, "
                          "scores TEXT)")
        if "scores" not in {row[1] for row in self._con.execute("PRAGMA table_info(results)")}:
            try:  # a cache file written before scores were kept
                self._con.execute("ALTER TABLE results ADD COLUMN scores TEXT")
            except sqlite3.OperationalError:  # another worker added it first
                pass

    def lookup(self, key: str) -> CachedOutput | None:
        """The output kept for ``key`` with its scores, in one query (None: not kept)."""
        row = self._con.execute("SELECT output, scores FROM results WHERE key = ?", (key,)).fetchone()
        return CachedOutput(row[0], tuple(json.loads(row[1])) if row[1] else None) if row else None

    def get(self, key: str) -> str | None:
        found = self.lookup(key)
        return found.text if found else None

    def scores(self, key: str) -> tuple[list[float], list[int]] | None:
        """The output's token log-probabilities and token end offsets (None: not kept)."""
        found = self.lookup(key)
        return found.scores if found else None

    def put(self, key: str, output: str, scores: tuple | None = None) -> None:
        """Keep ``output`` with its (log-probabilities, token ends), when given."""
        kept = json.dumps([list(scores[0]), list(scores[1])]) if scores and scores[0] else None
        self._con.execute("INSERT OR REPLACE INTO results (key, output, scores) VALUES (?, ?, ?)",
                          (key, output, kept))

    def close(self) -> None:
        self._con.close()
