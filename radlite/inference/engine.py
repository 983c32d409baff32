"""llama-cpp-python models, loaded once per process and shared by every task and adapter routed to them.

llama-cpp-python loads the weights and tokenizes; every prompt is decoded by the base's BatchDecoder
(radlite.inference.batch), which also applies the entry's LoRA adapters: one decode path, a single
prompt being a group of one.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import llama_cpp
from llama_cpp import Llama

from radlite.hashing import file_sha256
from radlite.inference import crashlog
from radlite.inference.batch import BatchDecoder, Completion, GroupCost, Request
from radlite.inference.merge import merged_model
from radlite.prompts import Prompt


class AdapterFile(Protocol):
    path: str
    scale: float
    sha256: str | None


class ModelEntry(Protocol):
    """What the engine reads of a routing entry (its llama.cpp options: radlite.kinds.llama_cpp): the
    engine stands below the kinds and knows no routing table."""

    path: str
    sha256: str | None
    adapters: Sequence[AdapterFile]
    n_ctx: int
    threads: int | None
    seed: int
    merge: str | None

    @property
    def merged(self) -> bool: ...

    def label(self) -> str: ...


#: How many times each base model file was loaded in this process (a model is loaded once per process).
LOAD_COUNTS: Counter = Counter()
_MODELS: dict[tuple, SharedBase] = {}
_LOCK = threading.Lock()
#: Cache cells of llama-cpp-python's own context, which only lends its settings and tokenizer (the
#: BatchDecoder decodes in contexts of its own): llama.cpp's smallest, not the entry's n_ctx, whose
#: whole KV cache (hundreds of MB for a 3-4B model) would otherwise sit unused.
OWN_CONTEXT_CELLS = 256


class SharedBase:
    """One llama.cpp base model in memory, with the handles of every LoRA adapter routed onto it.

    Entries that differ only in adapters share this base and its BatchDecoder: switching gives the
    decoder the other adapter set instead of loading the base again.
    """

    def __init__(self, path: str, n_ctx: int, threads: int | None, seed: int):
        # Prompt evaluation (batch) threads too: left to llama-cpp-python they take every core, and
        # several worker processes on one machine would then fight over them.
        # Flash attention: llama.cpp's CPU kernel skips masked KV cells, so a sequence decoded in a
        # batch attends over its own cells only, not every report's (benchmarks/tasks_bench.py's
        # batched/single model step went from 0.99x to 1.34x with it; README, Performance). The
        # decoder's context copies these settings (batch.new_context).
        threads = threads or os.cpu_count()
        self.path, self.n_ctx = path, n_ctx  # n_ctx: the most tokens one prompt and its answer may hold
        self.llm = Llama(model_path=path, n_ctx=OWN_CONTEXT_CELLS, n_threads=threads, n_threads_batch=threads,
                         seed=seed, flash_attn=True, verbose=False)
        self._adapters: dict[str, object] = {}
        self.threads = threads
        self._batch: BatchDecoder | None = None
        self._batch_adapters: tuple = ()

    def handles(self, adapters: tuple) -> list:
        """llama.cpp's handles of ``adapters``, each file loaded once for every context of this base."""
        for adapter in adapters:
            if adapter.path not in self._adapters:
                handle = llama_cpp.llama_adapter_lora_init(self.llm._model.model, adapter.path.encode())
                if not handle:
                    raise RuntimeError(f"llama.cpp could not load LoRA adapter {adapter.path}")
                self._adapters[adapter.path] = handle
        return [self._adapters[adapter.path] for adapter in adapters]

    def batch_decoder(self, adapters: tuple) -> BatchDecoder:
        """The base's multi-sequence context (created on first use) with exactly ``adapters`` applied."""
        if self._batch is None:
            self._batch = BatchDecoder(self.llm, n_ctx=self.n_ctx, threads=self.threads)
        if adapters != self._batch_adapters:
            self._batch.set_adapters(self.handles(adapters), [a.scale for a in adapters])
            self._batch_adapters = adapters
        return self._batch


class LoadedModel:
    """A routing entry bound to its shared base: decodes with the entry's adapters applied."""

    def __init__(self, entry: ModelEntry, base: SharedBase):
        self.entry, self.base = entry, base
        #: the adapters llama.cpp applies at run time (none when they are merged into ``base``)
        self.adapters = () if entry.merged else entry.adapters
        #: the GGUF file llama.cpp loaded (the merged model's cache name when the adapters are merged)
        self.weights = os.path.basename(weights_path(entry))
        self.identity = {"model_sha256": entry.sha256 or file_sha256(entry.path),
                         "adapters": [[a.sha256 or file_sha256(a.path), a.scale] for a in entry.adapters]}
        if entry.merged:
            self.identity["merge"] = entry.merge

    @property
    def llm(self):
        return self.base.llm

    def generate_groups(self, groups: list[list[Prompt]]) -> list[tuple[list[Completion] | Exception, GroupCost]]:
        """Every prompt of every group (one report's task prompts) decoded together; per group its
        completions or the exception that stopped it, and what it cost (see BatchDecoder.run)."""
        return decode_groups(self.base.batch_decoder(self.adapters), self.llm, self.entry.seed, groups)


def decode_groups(decoder: BatchDecoder, llm: Llama, seed: int,
                  groups: list[list[Prompt]]) -> list[tuple[list[Completion] | Exception, GroupCost]]:
    """``groups`` of prompts tokenized for ``llm`` and decoded by ``decoder`` (sampled prompts drawing
    from ``seed``); a group with a prompt llama.cpp cannot tokenize fails alone."""
    requests = []
    for prompts in groups:
        try:
            requests.append([Request(tuple(prompt_tokens(llm, p)), p.max_tokens, tuple(p.stop), p.grammar,
                                     p.temperature, seed) for p in prompts])
        except Exception as exc:  # noqa: BLE001 - a prompt llama.cpp cannot tokenize fails its group only
            requests.append(exc)
    results = iter(decoder.run([r for r in requests if not isinstance(r, Exception)]))
    return [(r, GroupCost()) if isinstance(r, Exception) else next(results) for r in requests]


def prompt_tokens(llm: Llama, prompt: Prompt) -> list[int]:
    """The prompt's token ids: control tokens parsed in the template, never in its data spans.

    Data that tokenizes the same either way (every ordinary report) is tokenized with the whole
    prompt in one call, exactly as llama.cpp would; data that spells a control token (a report
    containing ``<|im_end|>``) is tokenized piece by piece, its pieces as plain text.
    """
    text = prompt.text

    def ids(piece: str, special: bool, bos: bool) -> list[int]:
        return llm.tokenize(piece.encode("utf-8"), add_bos=bos, special=special)

    hostile = [(s, e) for s, e in prompt.data_spans if ids(text[s:e], True, False) != ids(text[s:e], False, False)]
    if not hostile:
        return ids(text, True, True)
    tokens, pos = [], 0
    for start, end in hostile + [(len(text), len(text))]:
        for piece, special in ((text[pos:start], True), (text[start:end], False)):
            if piece:
                tokens += ids(piece, special, not tokens)
        pos = end
    return tokens


@functools.cache
def weights_path(entry: ModelEntry) -> str:
    """The GGUF file llama.cpp loads for ``entry``: its base, or its base with the adapters merged in
    (made on first use, then cached: radlite.inference.merge)."""
    if not entry.merged:
        return entry.path
    return merged_model(entry.path, [(a.path, a.scale) for a in entry.adapters], entry.merge)


def base_key(entry: ModelEntry) -> tuple:
    """Entries with the same key share one loaded base model."""
    return (weights_path(entry), entry.n_ctx, entry.threads, entry.seed)


def get_model(entry: ModelEntry) -> LoadedModel:
    """``entry`` bound to the process-wide base model, which is loaded on first use only."""
    key = base_key(entry)
    with _LOCK:
        if key not in _MODELS:
            with crashlog.evaluation(entry.label()):  # loading: a bad build or file can die here too
                _MODELS[key] = SharedBase(*key)
            LOAD_COUNTS[os.path.basename(key[0])] += 1
        return LoadedModel(entry, _MODELS[key])
