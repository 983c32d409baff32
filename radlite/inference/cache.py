"""Result cache: a model output is reused whenever model, adapters, exact prompt and decoding match.

Templated normal reports repeat verbatim in real backlogs, and reruns after a crash repeat work;
neither costs inference twice. SQLite in WAL mode lets several worker processes share one file.
"""

from __future__ import annotations

import json
import os
import sqlite3

from radlite.hashing import text_sha256


def cache_key(identity: dict, prompt_text: str, decoding: dict) -> str:
    return text_sha256(json.dumps([identity, prompt_text, decoding], sort_keys=True))


class ResultCache:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self._con = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")  # a lost entry on power failure only costs a rerun
        self._con.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, output TEXT NOT NULL)")

    def get(self, key: str) -> str | None:
        row = self._con.execute("SELECT output FROM results WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, output: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO results (key, output) VALUES (?, ?)", (key, output))

    def close(self) -> None:
        self._con.close()
