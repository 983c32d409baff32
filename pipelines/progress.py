"""A terminal progress bar fed from inside the pipeline when it runs in this process.

Beam's in-process runner executes DoFns in the driver process, so a module-level bar can be
advanced from there; in worker processes no bar is installed and ``advance`` does nothing.
"""

from __future__ import annotations

_bar = None


def install(bar) -> None:
    global _bar
    _bar = bar


def advance(n: int = 1) -> None:
    if _bar is not None:
        _bar.update(n)
