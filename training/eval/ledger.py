"""The test-split ledger: one line for every time the fixed IU X-ray test list is scored.

NegBio's 771-report test list is only worth something while nobody tunes on it, so every scoring of
it is recorded, with its date, commit, command and figures, by the code that scores it
(``benchmarks/quality_iu.py --split test``, ``radlite train eval`` on a split holding the list's
records). The record is ``docs/quality/test-ledger.jsonl`` (one JSON object a line: appending never
rewrites history and a line is validated by :class:`LedgerEntry` when read), and
``docs/quality/test-ledger.md`` is rendered from it after every append for people to read.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys

from pydantic import BaseModel, Field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEDGER = os.path.join(ROOT, "docs", "quality", "test-ledger.jsonl")
#: The split every line is about.
TEST_LIST = "NegBio openi-testset.txt (IU X-ray, 771 reports)"


class LedgerEntry(BaseModel):
    """One scoring of the fixed test list."""

    date: str
    #: the commit the scoring ran at ("+dirty" when the working tree had uncommitted changes)
    commit: str
    command: str
    #: what was scored, e.g. "quality_iu" or "train eval"
    tool: str
    #: "test" for the fixed test list; a ledger given explicitly (--ledger) also takes other splits' runs
    split: str = "test"
    #: reports (or records) of the test list scored
    n: int
    #: figure name -> value, as the tool printed them
    figures: dict[str, float]
    #: "run": appended by the tool itself; "backfill": reconstructed from a committed output in git history
    origin: str = "run"
    note: str = ""
    extra: dict[str, str] = Field(default_factory=dict)


def current_commit(root: str = ROOT) -> str:
    """HEAD's short hash, "+dirty" when tracked files changed; "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def read_ledger(path: str = LEDGER) -> list[LedgerEntry]:
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [LedgerEntry.model_validate_json(line) for line in fh if line.strip()]


def render(entries: list[LedgerEntry]) -> str:
    """The markdown view of the ledger (test-ledger.md)."""
    lines = ["# Test-split ledger", "",
             f"Every scoring of the fixed test list ({TEST_LIST}), oldest first: {len(entries)} so far. "
             "Written by `training/eval/ledger.py` from `test-ledger.jsonl` after each append; do not edit by hand. "
             "`run` lines were appended by the scoring tool itself, `backfill` lines reconstructed from the "
             "outputs committed in git history (see `docs/quality/README.md`).", "",
             "| # | date | commit | tool | split | n | figures | origin | command |", "|---" * 9 + "|"]
    for i, e in enumerate(entries, 1):
        figures = ", ".join(f"{k} {v:.3f}" for k, v in e.figures.items())
        note = f" ({e.note})" if e.note else ""
        lines.append(f"| {i} | {e.date} | {e.commit} | {e.tool} | {e.split} | {e.n} | {figures} | {e.origin}{note} | "
                     f"`{e.command}` |")
    return "\n".join(lines) + "\n"


def append(entry: LedgerEntry, path: str = LEDGER) -> int:
    """Add ``entry`` to the ledger at ``path`` and re-render the markdown beside it; returns the count."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as fh:
        fh.write(entry.model_dump_json() + "\n")
    entries = read_ledger(path)
    with open(os.path.splitext(path)[0] + ".md", "w") as fh:
        fh.write(render(entries))
    return len(entries)


def record_scoring(tool: str, n: int, figures: dict[str, float], path: str = LEDGER, note: str = "",
                   split: str = "test") -> int:
    """Append this process's scoring (now, HEAD, its command line) to the ledger; returns the count."""
    entry = LedgerEntry(date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), commit=current_commit(),
                        command=shlex.join([os.path.basename(sys.argv[0]), *sys.argv[1:]]), tool=tool, split=split, n=n,
                        figures={k: round(v, 4) for k, v in figures.items()}, note=note)
    return append(entry, path)


def on_test_list(record) -> bool:
    """An instruction record made from a report on the fixed list: build-data --test-ids puts those,
    and only those, of IU X-ray in the test split."""
    return record.source == "iu-xray" and record.split == "test"


def record_evaluation(evaluations: list, records: list, path: str = LEDGER) -> int | None:
    """Append a `radlite train eval` run to the ledger when it scored records of the fixed test list
    (the figures of each evaluated routing, for the tasks those records belong to); None when it
    scored none. Outside a checkout (no docs/quality beside the package) nothing is written."""
    listed = [r for r in records if on_test_list(r)]
    if not listed or not os.path.isdir(os.path.dirname(path)):
        return None
    tasks = {r.task for r in listed}
    figures = {f"{name} {t.metric}" + ("" if i == 0 else f" ({e.routing})"): t.score
               for i, e in enumerate(evaluations) for name, t in e.tasks.items() if name in tasks}
    return record_scoring("train eval", len(listed), figures, path=path, note="real IU X-ray test records only")
