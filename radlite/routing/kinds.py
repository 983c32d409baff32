"""What a routing table knows of each model kind: the kind registry's configuration half.

A routing entry names its kind; everything the table itself decides by kind (does the entry name
files to load and hash, may it leave an instance open for the next entry of a route, which tasks can
it answer at all, what ``model_id`` do its rows carry) is a trait declared here, once per kind. The
other half of a kind, how it loads and answers, lives above inference in ``radlite.kinds`` (one
``ModelKind`` per name declared here; a test checks the two registries name the same kinds).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from radlite.rules.answers import RULE_TASKS, rules_model_id


class _File(Protocol):
    path: str


class Entry(Protocol):
    """What a kind's traits read of a routing entry (radlite.routing.ModelEntry)."""

    path: str
    adapters: Sequence[_File]
    merge: str | None
    merged: bool

LLAMA_CPP, RULES = "llama.cpp", "rules"


@dataclass(frozen=True)
class KindTraits:
    """One kind, as a routing table sees it."""

    name: str
    #: The entry names a model file (and adapters, a prompt profile) that is resolved, hashed and loaded.
    loads_files: bool
    #: It may leave an instance open for the next entry of a route (a cascade); a kind that answers
    #: every instance it is asked can only be the last entry of a route.
    passes_on: bool
    #: The ``model_id`` of the rows the entry writes.
    label: Callable[[Entry], str]
    #: The tasks it can answer (None: every task).
    tasks: Collection[str] | None = None

    def answers(self, task: str) -> bool:
        return self.tasks is None or task in self.tasks


def _file_label(entry: Entry) -> str:
    """The model file's name plus its adapters' file names (and the merge, when they are merged)."""
    names = [os.path.basename(entry.path)] + [os.path.basename(a.path) for a in entry.adapters]
    return "+".join(names) + (f"@merged-{entry.merge}" if entry.merged else "")


KIND_TRAITS: dict[str, KindTraits] = {t.name: t for t in (
    KindTraits(LLAMA_CPP, loads_files=True, passes_on=False, label=_file_label),
    KindTraits(RULES, loads_files=False, passes_on=True, label=lambda entry: rules_model_id(),
               tasks=RULE_TASKS),
)}


def kind_traits(name: str) -> KindTraits:
    if name not in KIND_TRAITS:
        raise ValueError(f"unknown model kind {name!r}; known: {', '.join(KIND_TRAITS)}")
    return KIND_TRAITS[name]
