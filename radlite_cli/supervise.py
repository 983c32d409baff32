"""The ``radlite`` command runs its work in a child process and watches it.

Native code (llama.cpp) that dies of a signal takes its process with it, before Python can say a
word: a cron job would see exit status 139 and an empty log. So the console entry forks: the child
does the work exactly as before; the parent waits, and if the child dies of a signal, or a process
of the run logs a fatal signal and the run does not end by itself, it prints one line naming the
signal and the routing entry being evaluated (radlite.inference.crashlog), removes the run's staging
folder and exits 1. The lock on OUT dies with the child, and nothing was committed (the commit is
the child's last step), so the previous state is what readers see.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable

from radlite.errors import ExitCode
from radlite.inference import crashlog

SUPERVISED = "RADLITE_SUPERVISED"
#: How long a run may go on after one of its processes logged a fatal signal before it is stopped:
#: a runner whose worker died usually fails by itself within seconds (then the child says why).
GRACE_SECONDS = 20.0


def crash_report(directory: str, staging: str | None, status_signal: int | None) -> str:
    """The one line for a run that died: the logged crash if any, else the signal that ended it."""
    found = crashlog.crashes(directory) + (crashlog.crashes(os.path.join(staging, "crash")) if staging else [])
    if found:
        return found[0].message()
    name = signal.Signals(status_signal).name if status_signal else "a fatal signal"
    return (f"radlite crashed ({name}) in native code: nothing of this run was committed and the previous state "
            "is intact; run `radlite doctor` to check the llama.cpp build and the model files")


def supervised(work: Callable[[], int | None]) -> int:
    """Run ``work`` in a child process and return the exit code to use (see the module's docstring)."""
    if os.name != "posix" or os.environ.get(SUPERVISED):
        return _call(work)
    directory = tempfile.mkdtemp(prefix="radlite-crash-")
    os.environ[crashlog.ENV] = directory
    os.environ[SUPERVISED] = str(os.getpid())
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: the work, exactly as unsupervised, in a process group of its own
        code = 1
        try:
            os.setpgid(0, 0)
            code = _call(work)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    try:
        return _watch(pid, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _call(work: Callable[[], int | None]) -> int:
    try:
        result = work()
    except SystemExit as exc:
        result = exc.code
    if result is None:
        return 0
    return result if isinstance(result, int) else 1


def _watch(pid: int, directory: str) -> int:
    """Wait for the child; forward SIGINT/SIGTERM to it; report a crash in one line."""
    forwarded = {sig: signal.signal(sig, lambda s, _f: _kill(pid, s)) for sig in (signal.SIGINT, signal.SIGTERM)}
    crashed_at = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if crashed_at is None and crashlog.crashes(directory):
                crashed_at = time.monotonic()
            if crashed_at is not None and time.monotonic() - crashed_at > GRACE_SECONDS:
                _kill_group(pid)
                _, status = os.waitpid(pid, 0)
                return _report(directory, signal.SIGKILL)
            time.sleep(0.2)
    finally:
        for sig, handler in forwarded.items():
            signal.signal(sig, handler)
    if os.WIFSIGNALED(status):
        return _report(directory, os.WTERMSIG(status))
    return os.WEXITSTATUS(status)


def _report(directory: str, status_signal: int) -> int:
    staging = crashlog.noted_staging(directory)
    print(f"error: {crash_report(directory, staging, status_signal)}", file=sys.stderr)
    if staging:
        shutil.rmtree(staging, ignore_errors=True)
    return ExitCode.FAILED


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _kill_group(pid: int) -> None:
    """The child and every process it started (Beam's worker processes) that are still in its group."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        _kill(pid, signal.SIGKILL)
