"""The model-kind registry: one module per kind, one registration here.

Adding a kind (a computed-values engine, a remote server) = a module with a ``ModelKind`` subclass +
one line in ``KINDS``. ``radlite.kinds.cascade`` answers task
instances along a routing table's routes with them, for the pipeline and the evaluation alike.
"""

from __future__ import annotations

from radlite.kinds.base import Answered, Answerer, Asked, ModelKind
from radlite.kinds.llama_cpp import LlamaCppKind
from radlite.kinds.rules import RulesKind

KINDS: dict[str, ModelKind] = {k.name: k for k in (LlamaCppKind(), RulesKind())}


def get_kind(name: str) -> ModelKind:
    if name not in KINDS:
        raise ValueError(f"unknown model kind {name!r}; known: {', '.join(KINDS)}")
    return KINDS[name]


__all__ = ["KINDS", "Answered", "Answerer", "Asked", "ModelKind", "get_kind"]
