"""A run killed with SIGKILL leaves its marked temporary folders; the next run removes those whose owner
is gone, and nothing else: not a live run's folder, not an unmarked folder with the same name."""

import json
import os
import signal
import subprocess
import sys
import tempfile

from conftest import ROOT

from radlite.tempdirs import OWNER_FILE, is_stale, owned_tempdir, remove_stale
from radlite_cli import supervise

_MAKE_AND_WAIT = ("import sys, time; from radlite.tempdirs import owned_tempdir; "
                  "print(owned_tempdir('radlite-crash-', sys.argv[1]), flush=True); time.sleep(600)")


def _killed_owner_folder(parent) -> str:
    """A folder made by a real process that was then killed with SIGKILL (its finally never ran)."""
    child = subprocess.Popen([sys.executable, "-c", _MAKE_AND_WAIT, str(parent)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT, env=os.environ | {"PYTHONPATH": ROOT})
    folder = child.stdout.readline().strip()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    return folder


def test_only_the_folders_of_dead_owners_are_removed(tmp_path):
    stale = _killed_owner_folder(tmp_path)
    open(os.path.join(stale, "process.log"), "w").close()
    live = owned_tempdir("radlite-crash-", str(tmp_path))  # this process: alive
    unmarked = tmp_path / "radlite-crash-not-ours"  # same name pattern, no marker: never touched
    unmarked.mkdir()
    elsewhere = tmp_path / "other-host"  # a dead pid, but on another host (a shared /tmp): not ours to judge
    elsewhere.mkdir()
    (elsewhere / OWNER_FILE).write_text(json.dumps({"host": "not-this-host", "pid": 1 << 22, "started": None}))
    assert is_stale(stale) and not is_stale(live)
    assert remove_stale(str(tmp_path)) == [stale]
    assert not os.path.exists(stale)
    assert os.path.isdir(live) and unmarked.is_dir() and elsewhere.is_dir()


def test_a_reused_pid_does_not_keep_a_stale_folder(tmp_path):
    folder = owned_tempdir("radlite-crash-", str(tmp_path))
    marker = os.path.join(folder, OWNER_FILE)
    with open(marker) as fh:
        owner = json.load(fh)
    owner["started"] = "1"  # this pid, but a process that started at another time: the owner is gone
    with open(marker, "w") as fh:
        json.dump(owner, fh)
    assert remove_stale(str(tmp_path)) == [folder]


def test_the_supervisor_removes_a_killed_runs_crash_folder_and_its_own(tmp_path, monkeypatch):
    stale = _killed_owner_folder(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for name in (supervise.SUPERVISED, supervise.crashlog.ENV):  # restored to unset after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    assert supervise.supervised(lambda: 0) == 0
    assert os.listdir(tmp_path) == []  # the killed run's folder and this run's own are gone
    assert not os.path.exists(stale)
