"""llama-cpp-python models, loaded once per process and shared by every task routed to them.

Each model keeps the tokens of its last prompt; a following prompt with the same prefix (the
radlite-v1 report prefix) only evaluates the new suffix, so a report's text is read once.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass

from radlite.prompts.profiles import Prompt
from radlite.routing import ModelEntry

#: How many times each model was loaded in this process (tests assert once per worker).
LOAD_COUNTS: Counter = Counter()
_MODELS: dict[tuple, "LoadedModel"] = {}
_LOCK = threading.Lock()
_SHA_CACHE: dict[tuple, str] = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) within the process."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class LoadedModel:
    """One llama.cpp model (with its adapters) and a cache of compiled grammars."""

    def __init__(self, entry: ModelEntry):
        from llama_cpp import Llama

        if len(entry.adapters) > 1:
            raise ValueError(f"{entry.label()}: one LoRA adapter per model entry is supported")
        lora = entry.adapters[0] if entry.adapters else None
        self.entry = entry
        self.llm = Llama(model_path=entry.path, n_ctx=entry.n_ctx, n_threads=entry.threads or os.cpu_count(),
                         seed=entry.seed, verbose=False,
                         lora_path=lora.path if lora else None, lora_scale=lora.scale if lora else 1.0)
        self._grammars: dict[str, object] = {}
        self.identity = {"model_sha256": entry.sha256 or file_sha256(entry.path),
                         "adapters": [[a.sha256 or file_sha256(a.path), a.scale] for a in entry.adapters]}

    def _grammar(self, text: str | None):
        if text is None:
            return None
        if text not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def generate(self, prompt: Prompt) -> Generation:
        start = time.perf_counter()
        out = self.llm.create_completion(
            prompt.text, max_tokens=prompt.max_tokens, temperature=prompt.temperature, stop=list(prompt.stop),
            grammar=self._grammar(prompt.grammar), seed=self.entry.seed,
        )
        usage = out["usage"]
        return Generation(out["choices"][0]["text"], usage["prompt_tokens"], usage["completion_tokens"],
                          time.perf_counter() - start)


def get_model(entry: ModelEntry) -> LoadedModel:
    """The process-wide instance for ``entry``, loading it on first use only."""
    key = (entry.path, entry.adapters, entry.n_ctx, entry.threads, entry.seed)
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = LoadedModel(entry)
            LOAD_COUNTS[entry.label()] += 1
        return _MODELS[key]
