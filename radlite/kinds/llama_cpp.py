"""The ``llama.cpp`` kind: a GGUF model (with LoRA adapters) prompted through its entry's profile.

The reports of a batch are decoded together (the engine's ``run_reports``); a model answers every
instance it is asked, valid or not, so it leaves none open. Its entry options (profile, context
size, threads, seed, adapters and their merge) are read by no other kind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Literal

import gguf
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from radlite.hashing import file_sha256
from radlite.inference.cache import ResultCache
from radlite.inference.engine import get_model, weights_path
from radlite.inference.failures import CONTEXT_OVERFLOW, ModelFailure
from radlite.inference.merge import AdapterMismatch, MergeType, merge_lora
from radlite.inference.runner import run_reports
from radlite.kinds.base import Answered, Asked, ModelEntry, ModelKind, Shot
from radlite.prompts import DEFAULT_PROFILE, PROFILES, Prompt, get_profile, render_prompt
from radlite.tasks import TASKS

LLAMA_CPP = "llama.cpp"

__all__ = ["LLAMA_CPP", "Adapter", "LlamaCppEntry", "LlamaCppKind", "gguf_problems", "merge_lora"]


class Adapter(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    scale: float = 1.0
    sha256: str | None = None


class LlamaCppEntry(ModelEntry):
    """A GGUF file, optional LoRA adapters, and how to prompt and run it."""

    kind: Literal["llama.cpp"] = LLAMA_CPP
    path: str = ""
    sha256: str | None = None
    adapters: tuple[Adapter, ...] = ()
    profile: str = DEFAULT_PROFILE
    n_ctx: int = Field(default=4096, ge=256)
    threads: int | None = None
    seed: int = 0
    #: Merge the adapters into the base's weights (written once as this type, cached; see
    #: radlite.inference.merge) instead of applying them at run time: the same model, faster on a CPU.
    merge: MergeType | None = None

    @model_validator(mode="after")
    def _has_a_file(self) -> LlamaCppEntry:
        if not self.path:
            raise ValueError(f"a {LLAMA_CPP} entry needs a path")
        return self

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, profile: str) -> str:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        return profile

    def files(self) -> list[tuple[str, str | None]]:
        return [(self.path, self.sha256)] + [(a.path, a.sha256) for a in self.adapters]

    def with_paths(self, rename: Callable[[str], str]) -> LlamaCppEntry:
        return self.model_copy(update={"path": rename(self.path), "adapters": tuple(
            a.model_copy(update={"path": rename(a.path)}) for a in self.adapters)})

    def pinned(self) -> LlamaCppEntry:
        return self.model_copy(update={"sha256": file_sha256(self.path), "adapters": tuple(
            a.model_copy(update={"sha256": file_sha256(a.path)}) for a in self.adapters)})

    @property
    def merged(self) -> bool:
        """Whether llama.cpp loads the adapters merged into a model file rather than applying them."""
        return bool(self.merge and self.adapters)


class ModelAnswerer:
    """A loaded model (anything with the ``generate_groups`` of radlite.inference.engine.LoadedModel)."""

    def __init__(self, model):
        self.model = model

    def answer(self, asked: list[Asked], run_id: str, cache: ResultCache | None) -> list[Answered]:
        rows = run_reports(self.model, [(a.report, a.instances, a.counts) for a in asked], run_id, cache)
        return [Answered(r, []) for r in rows]


class FewShotModel:
    """A loaded model whose prompts carry k solved examples (PromptProfile.few_shot), decoded by the
    model's own ``generate_groups``: evaluation and the pipeline share one decode path."""

    def __init__(self, model, examples: list[tuple[Prompt, str]]):
        self.model, self.examples = model, examples
        self.entry, self.identity = model.entry, model.identity

    def generate_groups(self, groups: list[list[Prompt]]) -> list:
        profile = get_profile(self.entry.profile)
        return self.model.generate_groups([[profile.few_shot(p, self.examples) for p in prompts] for prompts in groups])


def gguf_problems(path: str, adapter: bool) -> list[str]:
    """A GGUF file must have the magic bytes and the right kind of metadata."""
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            return [f"{path}: not a GGUF file"]
    fields = gguf.GGUFReader(path).fields

    def value(key: str):
        field = fields.get(key)
        return None if field is None else field.contents()

    problems = []
    if value("general.architecture") is None:
        problems.append(f"{path}: no general.architecture in GGUF metadata")
    kind = value("general.type")
    if adapter and kind != "adapter":
        problems.append(f"{path}: general.type is {kind!r}, expected 'adapter'")
    if adapter and value("adapter.type") != "lora":
        problems.append(f"{path}: adapter.type is not 'lora'")
    return problems


def _file_label(entry: LlamaCppEntry) -> str:
    """The model file's name plus its adapters' file names (and the merge, when they are merged)."""
    names = [os.path.basename(entry.path)] + [os.path.basename(a.path) for a in entry.adapters]
    return "+".join(names) + (f"@merged-{entry.merge}" if entry.merged else "")


class LlamaCppKind(ModelKind):
    name = LLAMA_CPP
    options = LlamaCppEntry
    loads_files = True

    def model_id(self, entry: LlamaCppEntry) -> str:
        return _file_label(entry)

    def load(self, entry: LlamaCppEntry, load_model: Callable | None = None,
             shots: Sequence[Shot] = ()) -> ModelAnswerer:
        model = (load_model or get_model)(entry)
        if shots:
            model = FewShotModel(model, [(render_prompt(entry.profile, TASKS[instance.task], instance, report), answer)
                                         for report, instance, answer in shots])
        return ModelAnswerer(model)

    def check(self, entry: LlamaCppEntry) -> list[str]:
        """Every file a GGUF of its sort (model, LoRA adapter); merged adapters merged now (and cached),
        not at the first run's first report."""
        problems = gguf_problems(entry.path, adapter=False)
        for adapter in entry.adapters:
            problems += gguf_problems(adapter.path, adapter=True)
        if entry.merged and not problems:
            try:
                weights_path(entry)
            except AdapterMismatch as exc:
                problems.append(str(exc))
        return problems

    def may_fit(self, entry: LlamaCppEntry, failure: ModelFailure) -> bool:
        """A context overflow fits only a larger context than the one it overflowed."""
        return failure.code != CONTEXT_OVERFLOW or failure.n_ctx is None or entry.n_ctx > failure.n_ctx
