"""The ``llama.cpp`` kind: a GGUF model (with LoRA adapters) prompted through its entry's profile.

The reports of a batch are decoded together (radlite.inference.runner.run_reports_batched); a model
answers every instance it is asked, valid or not, so it leaves none open.
"""

from __future__ import annotations

from collections.abc import Callable

from radlite.inference.cache import ResultCache
from radlite.inference.engine import get_model
from radlite.inference.runner import run_report_tasks, run_reports_batched
from radlite.kinds.base import Answered, Asked, ModelKind
from radlite.routing import ModelEntry


class ModelAnswerer:
    """A loaded model; ``batched=False`` decodes one sequence at a time (the reference batching is
    checked against, benchmarks/tasks_bench.py)."""

    def __init__(self, model, batched: bool = True):
        self.model, self.batched = model, batched

    def answer(self, asked: list[Asked], run_id: str, cache: ResultCache | None) -> list[Answered]:
        if self.batched:
            rows = run_reports_batched(self.model, [(a.report, a.instances, a.counts) for a in asked], run_id, cache)
        else:
            rows = [run_report_tasks(self.model, a.report, a.instances, run_id, cache, a.counts) for a in asked]
        return [Answered(r, []) for r in rows]


class LlamaCppKind(ModelKind):
    name = "llama.cpp"

    def load(self, entry: ModelEntry, load_model: Callable | None = None, batched: bool = True) -> ModelAnswerer:
        return ModelAnswerer((load_model or get_model)(entry), batched)

    def model_id(self, entry: ModelEntry) -> str:
        """The GGUF file's name, with its adapters' (ModelEntry.label)."""
        return entry.label()
