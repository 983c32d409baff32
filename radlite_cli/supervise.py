"""The ``radlite`` command runs its work in a child process and watches it.

Native code (llama.cpp) that dies of a signal takes its process with it, before Python can say a
word: a cron job would see exit status 139 and an empty log. So the console entry forks: the child
does the work exactly as before; the parent waits, and if the child dies of a signal, or a process
of the run logs a fatal signal and the run does not end by itself, it prints one line naming the
signal and the routing entry being evaluated (the crash log of radlite.kinds), removes the run's staging
folder and exits 1. The lock on OUT dies with the child, and nothing was committed (the commit is
the child's last step), so the previous state is what readers see.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable

from radlite.errors import ExitCode
from radlite.kinds import crashlog
from radlite.store import staged_crash_dir
from radlite.tempdirs import owned_tempdir, remove_stale

SUPERVISED = "RADLITE_SUPERVISED"
#: How long a run may go on after one of its processes logged a fatal signal before it is stopped:
#: a runner whose worker died usually fails by itself within seconds (then the child says why).
GRACE_SECONDS = 20.0


def crash_report(directory: str, staging: str | None, status_signal: int | None) -> str:
    """The one line for a run that died: the logged crash if any, else the signal that ended it."""
    found = crashlog.crashes(directory) + (crashlog.crashes(staged_crash_dir(staging)) if staging else [])
    if found:
        return found[0].message()
    name = signal.Signals(status_signal).name if status_signal else "a fatal signal"
    return (f"radlite crashed ({name}) in native code: nothing of this run was committed and the previous state "
            "is intact; run `radlite doctor` to check the llama.cpp build and the model files")


def supervised(work: Callable[[], int | None]) -> int:
    """Run ``work`` in a child process and return the exit code to use (see the module's docstring)."""
    if os.name != "posix" or os.environ.get(SUPERVISED):
        return _call(work)
    remove_stale()  # crash folders (and other marked folders) of earlier runs killed with SIGKILL
    directory = owned_tempdir("radlite-crash-")
    os.environ[crashlog.ENV] = directory
    os.environ[SUPERVISED] = str(os.getpid())
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: the work, exactly as unsupervised
        code = 1
        try:
            _die_with(parent)
            code = _call(work)
        except BaseException:  # a bug: shown as Python would show it, then the child ends as it must
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    try:
        return _watch(pid, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _die_with(parent: int) -> None:
    """The child ends when the supervising process ends, even by SIGKILL: a killed ``radlite`` must not
    leave its work running (and holding OUT's lock) behind it. Linux's PR_SET_PDEATHSIG."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was in place
        os._exit(ExitCode.FAILED)


def _call(work: Callable[[], int | None]) -> int:
    try:
        result = work()
    except SystemExit as exc:
        result = exc.code
    if result is None:
        return 0
    return result if isinstance(result, int) else 1


def _watch(pid: int, directory: str) -> int:
    """Wait for the child; pass SIGTERM on to it (Ctrl-C reaches it from the terminal); report a crash in
    one line."""
    forwarded = {signal.SIGTERM: signal.signal(signal.SIGTERM, lambda s, _f: _kill(pid, s)),
                 signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    crashed_at = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if crashed_at is None and crashlog.crashes(directory):
                crashed_at = time.monotonic()
            if crashed_at is not None and time.monotonic() - crashed_at > GRACE_SECONDS:
                _kill(pid, signal.SIGKILL)  # its own worker processes end with their connection to it
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
