"""The ``llama.cpp`` kind: a GGUF model (with LoRA adapters) prompted through its entry's profile.

The reports of a batch are decoded together (radlite.inference.runner.run_reports); a model
answers every instance it is asked, valid or not, so it leaves none open.
"""

from __future__ import annotations

from collections.abc import Callable

from radlite.inference.cache import ResultCache
from radlite.inference.engine import get_model
from radlite.inference.runner import run_reports
from radlite.kinds.base import Answered, Asked, ModelKind
from radlite.routing import ModelEntry
from radlite.routing.kinds import LLAMA_CPP


class ModelAnswerer:
    """A loaded model (anything with the ``generate_groups`` of radlite.inference.engine.LoadedModel)."""

    def __init__(self, model):
        self.model = model

    def answer(self, asked: list[Asked], run_id: str, cache: ResultCache | None) -> list[Answered]:
        rows = run_reports(self.model, [(a.report, a.instances, a.counts) for a in asked], run_id, cache)
        return [Answered(r, []) for r in rows]


class LlamaCppKind(ModelKind):
    name = LLAMA_CPP

    def load(self, entry: ModelEntry, load_model: Callable | None = None) -> ModelAnswerer:
        return ModelAnswerer((load_model or get_model)(entry))
