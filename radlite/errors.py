"""Exit codes of the ``radlite`` command, one per way a run can end, mapped from the errors that end it."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: Bad arguments' values, missing input, unusable routing table, or any failure of the run.
    FAILED = 1
    #: OUT is locked by another run (retry later).
    LOCKED = 2
    #: The run committed, but rejected/read exceeded --max-reject-rate.
    REJECT_RATE = 3
    #: The run committed, but failed model calls / task instances sent to a model exceeded
    #: --max-model-error-rate (the failed instances are planned again by the next run).
    MODEL_ERRORS = 4
    #: radlite review gate: the lower bound of the table's precision interval is below --min-precision
    #: (or its miss-rate upper bound above --max-miss-rate).
    REVIEW_BELOW = 5
    #: radlite review gate: no current verdicts to judge by (none imported, or all stale after a model change),
    #: or reviewers' disputes on the table not yet settled by radlite review adjudicate.
    REVIEW_STALE = 6
    #: The command line itself is wrong: unknown option, missing argument (sysexits EX_USAGE).
    USAGE = 64
