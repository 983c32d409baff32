"""The model-kind registry: one module per kind, one registration here.

A kind (``ModelKind``) is declared once: what a routing table may do with its entries, the options
its entries carry, how it loads and answers them, checks their files and smoke-tests them. Adding
one (a computed-values engine, a remote server) = a module with a ``ModelKind`` and its ``ModelEntry``
options + one ``register`` line here. ``radlite.kinds.cascade`` answers task instances along a routing
table's routes with them, for the pipeline and the evaluation alike.

The applications reach the engine through this package only: the counts, cache and crash log a run
keeps are named here.
"""

from __future__ import annotations

from radlite.inference import crashlog
from radlite.inference.cache import ResultCache
from radlite.inference.engine import LOAD_COUNTS
from radlite.inference.failures import CONTEXT_OVERFLOW, ERROR_PREFIXES, MODEL_ERROR, ModelFailure
from radlite.inference.runner import InferenceCounts
from radlite.kinds.base import (
    DEFAULT_KIND,
    KINDS,
    Answered,
    Answerer,
    Asked,
    ModelEntry,
    ModelKind,
    Shot,
    Smoke,
    entry_of,
    get_kind,
    register,
)
from radlite.kinds.llama_cpp import LlamaCppKind
from radlite.kinds.rules import RulesKind

for _kind in (LlamaCppKind(), RulesKind()):
    register(_kind)


def model_loads() -> int:
    """How many model files this process has loaded (a model is loaded once per process)."""
    return sum(LOAD_COUNTS.values())


__all__ = ["CONTEXT_OVERFLOW", "DEFAULT_KIND", "ERROR_PREFIXES", "KINDS", "MODEL_ERROR", "Answered", "Answerer",
           "Asked", "InferenceCounts", "ModelEntry", "ModelFailure", "ModelKind", "ResultCache", "Shot", "Smoke",
           "crashlog", "entry_of", "get_kind", "model_loads", "register"]
