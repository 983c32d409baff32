"""What a process was evaluating when native code killed it.

A segfault in llama.cpp ends the process before any Python ``except`` runs, so the evidence has to
be on disk already: each process that evaluates a model writes, into one crash directory, a marker
naming the routing entry it is evaluating, and ``faulthandler`` (Python's own) appends the fatal
signal to the process's log as the process dies. Whoever watches the run (the supervising
``radlite`` process, or the run itself when a worker process died under it) reads them back with
``crashes``. The directory comes from ``RADLITE_CRASH_DIR`` (set by the supervisor, inherited by
local worker processes) or from ``install`` (the run's staging folder, which Dask workers on other
hosts see too).
"""

from __future__ import annotations

import faulthandler
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ENV = "RADLITE_CRASH_DIR"
#: faulthandler's words for each fatal signal it handles, and the signal's name.
SIGNALS = {"Segmentation fault": "SIGSEGV", "Illegal instruction": "SIGILL", "Bus error": "SIGBUS",
           "Aborted": "SIGABRT", "Floating-point exception": "SIGFPE"}

_RUN_FILE = "run.json"

_state: dict[str, object] = {}


@dataclass(frozen=True)
class Crash:
    """One process that died of a fatal signal, and what it was evaluating then (None: no model)."""

    process: str
    signal: str
    entry: str | None

    def message(self) -> str:
        what = f"evaluating routing entry {self.entry!r}" if self.entry else "outside model evaluation"
        return (f"llama.cpp crashed ({self.signal}) {what} in process {self.process}: nothing of this run was "
                "committed and the previous state is intact; run `radlite doctor` to check the llama.cpp build "
                "and the model files")


def _name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def install(fallback: str | None = None) -> str | None:
    """Start logging this process's fatal signals into $RADLITE_CRASH_DIR, else into ``fallback``.
    Idempotent per process and directory; returns the directory in use, or None when there is none."""
    directory = os.environ.get(ENV) or fallback
    if not directory:
        return None
    if _state.get("pid") == os.getpid() and _state.get("dir") == directory:
        return directory
    os.makedirs(directory, exist_ok=True)
    log = open(os.path.join(directory, _name() + ".log"), "w")  # noqa: SIM115 - open for the process's life
    faulthandler.enable(file=log, all_threads=False)
    _state.update(pid=os.getpid(), dir=directory, log=log, entry=None)
    return directory


def evaluating(entry: str | None) -> None:
    """Record that this process now evaluates ``entry`` (None: no model), where a crash can be traced."""
    if _state.get("pid") != os.getpid() and not install():
        return
    if _state.get("entry") == entry:
        return
    if not os.path.isdir(str(_state["dir"])):  # the run that gave the directory is over (staging removed)
        return
    path = os.path.join(str(_state["dir"]), _name() + ".entry")
    with open(path + ".tmp", "w") as fh:  # replaced whole: a crash while writing leaves the previous marker
        fh.write(entry or "")
    os.replace(path + ".tmp", path)
    _state["entry"] = entry


@contextmanager
def evaluation(entry: str) -> Iterator[None]:
    """The block evaluates ``entry``: a crash inside it names the entry."""
    evaluating(entry)
    try:
        yield
    finally:
        evaluating(None)


def crashes(directory: str | None) -> list[Crash]:
    """The processes that logged a fatal signal into ``directory``, those that were evaluating a model
    first (a worker that dies can take others down with it: the first cause is the one to name)."""
    if not directory or not os.path.isdir(directory):
        return []
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(directory, name), errors="replace") as fh:
            text = fh.read()
        signal = next((sig for words, sig in SIGNALS.items() if f"Fatal Python error: {words}" in text), None)
        if signal is None:
            continue
        process = name[:-len(".log")]
        try:
            with open(os.path.join(directory, process + ".entry")) as fh:
                entry = fh.read().strip() or None
        except FileNotFoundError:
            entry = None
        found.append(Crash(process, signal, entry))
    return sorted(found, key=lambda crash: crash.entry is None)


def note_staging(staging_dir: str) -> None:
    """Tell the supervising process (if any) which staging folder this run writes: it removes it when
    the run dies, and looks there for the crash logs of workers on other hosts (OUT is shared)."""
    if directory := os.environ.get(ENV):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, _RUN_FILE), "w") as fh:
            json.dump({"staging": staging_dir}, fh)


def noted_staging(directory: str) -> str | None:
    try:
        with open(os.path.join(directory, _RUN_FILE)) as fh:
            return json.load(fh)["staging"]
    except (OSError, ValueError, KeyError):
        return None
