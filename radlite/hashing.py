"""The project's hashes in one place: stable ids, text digests, and memoised file digests."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
from collections.abc import Iterable

_FILE_DIGESTS: dict[tuple, str] = {}


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stable_id(*parts: str) -> str:
    """16 hex digits that depend only on ``parts`` (NUL-separated): the same input gives the same id."""
    return text_sha256("\x00".join(parts))[:16]


def file_sha256(path: str) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) within the process."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def _is_package(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.submodule_search_locations is not None


def _imported(module: str, source: str, package: str) -> set[str]:
    """The ``package`` modules ``source`` (the text of ``module``) imports anywhere in the file: "from
    radlite import chexpert" names the module radlite.chexpert, "from radlite.report import Report"
    the module radlite.report."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), module.rpartition(".")[0]) \
                if node.level else node.module
            submodules = {f"{base}.{a.name}" for a in node.names} if _is_package(base) else set()
            named = {m for m in submodules if importlib.util.find_spec(m) is not None}
            found.update(named or {base})
            if named != submodules:
                found.add(base)
    return {m for m in found if m.split(".")[0] == package}


def imported_sources(roots: Iterable[str], package: str = "radlite") -> dict[str, str]:
    """Module name -> source text of ``roots`` and of every ``package`` module they import, directly or
    through one another: what code running from ``roots`` may execute of the package."""
    sources: dict[str, str] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in sources:
            continue
        with open(importlib.util.find_spec(module).origin, encoding="utf-8") as fh:
            sources[module] = fh.read()
        todo.extend(_imported(module, sources[module], package) - sources.keys())
    return sources


def sources_sha256(roots: Iterable[str], package: str = "radlite") -> str:
    """SHA-256 over the sources ``imported_sources`` reaches, in module-name order: a change to any module
    the roots depend on changes it."""
    sources = imported_sources(roots, package)
    digest = hashlib.sha256()
    for module in sorted(sources):
        digest.update(f"{module}\x00{sources[module]}\x00".encode())
    return digest.hexdigest()
