"""The rules' fingerprint: a hash over the source of every module the rule extractors import.

The rules' ``model_id`` (radlite.rules.answers.rules_model_id) carries it, so a change to any phrase
table, lexicon or text module the rules read (the assertion engine, the sections, the site words...)
is visible in the output. The modules are found by walking the rules package's imports, never listed
by hand.
"""

from __future__ import annotations

import pkgutil
from functools import lru_cache

import radlite.rules
from radlite.hashing import sources_sha256


def rule_modules() -> list[str]:
    """The modules of the rules package: where the walk over their imports starts."""
    return sorted(f"{radlite.rules.__name__}.{m.name}" for m in pkgutil.iter_modules(radlite.rules.__path__))


@lru_cache(maxsize=1)
def rule_tables_sha256() -> str:
    """SHA-256 over the source of every library module the rules package imports, directly or not."""
    return sources_sha256(rule_modules())
