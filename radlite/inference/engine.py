"""llama-cpp-python models, loaded once per process and shared by every task and adapter routed to them.

Each model keeps the tokens of its last prompt; a following prompt with the same prefix (the
radlite-v1 report prefix) only evaluates the new suffix, so a report's text is read once.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass

import llama_cpp
from llama_cpp import Llama, LlamaGrammar

from radlite.hashing import file_sha256
from radlite.inference import crashlog
from radlite.inference.batch import BatchDecoder, Completion, GroupCost, Request
from radlite.inference.merge import merged_model
from radlite.prompts import Prompt
from radlite.routing import ModelEntry

#: How many times each base model file was loaded in this process (a model is loaded once per process).
LOAD_COUNTS: Counter = Counter()
_MODELS: dict[tuple, SharedBase] = {}
_LOCK = threading.Lock()


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prefill_tokens: int = 0  # prompt tokens evaluated: those after the prefix the model had cached


class SharedBase:
    """One llama.cpp base model in memory, with every LoRA adapter routed onto it.

    Entries that differ only in adapters share this base: switching applies the other adapter set
    (llama_set_adapters_lora) instead of loading the base again. A switch changes the weights, so
    the cached prompt prefix is dropped with it.
    """

    def __init__(self, path: str, n_ctx: int, threads: int | None, seed: int):
        # Prompt evaluation (batch) threads too: left to llama-cpp-python they take every core, and
        # several worker processes on one machine would then fight over them.
        # Flash attention: llama.cpp's CPU kernel skips masked KV cells, so a sequence decoded in a
        # batch attends over its own cells only, not every report's (benchmarks/tasks_bench.py's
        # batched/single model step went from 0.99x to 1.34x with it; README, Performance). The
        # batched context copies these settings.
        threads = threads or os.cpu_count()
        self.llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, seed=seed,
                         flash_attn=True, verbose=False)
        self._adapters: dict[str, object] = {}
        self._active: tuple = ()
        self._grammars: dict[str, object] = {}
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
            self._batch = BatchDecoder(self.llm, n_ctx=self.llm.n_ctx(), threads=self.threads)
        if adapters != self._batch_adapters:
            self._batch.set_adapters(self.handles(adapters), [a.scale for a in adapters])
            self._batch_adapters = adapters
        return self._batch

    def activate(self, adapters: tuple) -> None:
        """Make exactly ``adapters`` (Adapter tuple) active on this base."""
        if adapters == self._active:
            return
        handles = self.handles(adapters)
        array = (llama_cpp.llama_adapter_lora_p_ctypes * max(1, len(handles)))(*handles)
        scales = (ctypes.c_float * max(1, len(handles)))(*[a.scale for a in adapters])
        if llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, array, len(handles), scales):
            raise RuntimeError(f"llama.cpp could not apply adapters {[a.path for a in adapters]}")
        self.llm.reset()
        self._active = adapters

    def grammar(self, text: str | None):
        if text is None:
            return None
        if text not in self._grammars:
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]


class LoadedModel:
    """A routing entry bound to its shared base: generates with the entry's adapters active."""

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

    def generate(self, prompt: Prompt) -> Generation:
        start = time.perf_counter()
        self.base.activate(self.adapters)
        tokens = prompt_tokens(self.llm, prompt)
        cached = Llama.longest_token_prefix(self.llm.input_ids[:self.llm.n_tokens].tolist(), tokens)
        out = self.llm.create_completion(
            tokens, max_tokens=prompt.max_tokens, temperature=prompt.temperature,
            stop=list(prompt.stop), grammar=self.base.grammar(prompt.grammar), seed=self.entry.seed,
        )
        usage = out["usage"]
        return Generation(out["choices"][0]["text"], usage["prompt_tokens"], usage["completion_tokens"],
                          time.perf_counter() - start, len(tokens) - min(cached, len(tokens) - 1))

    def generate_groups(self, groups: list[list[Prompt]]) -> list[tuple[list[Completion] | Exception, GroupCost]]:
        """Every prompt of every group (one report's task prompts) decoded together; per group its
        completions or the exception that stopped it, and what it cost (see BatchDecoder.run)."""
        decoder = self.base.batch_decoder(self.adapters)
        requests = []
        for prompts in groups:
            try:
                requests.append([Request(tuple(prompt_tokens(self.llm, p)), p.max_tokens, tuple(p.stop), p.grammar)
                                 for p in prompts])
            except Exception as exc:  # noqa: BLE001 - a prompt llama.cpp cannot tokenize fails its group only
                requests.append(exc)
        ready = [r for r in requests if not isinstance(r, Exception)]
        results = iter(decoder.run(ready))
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
