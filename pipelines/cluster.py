"""Checks before a run goes to a Dask cluster: the scheduler answers, has workers, and every worker runs
the same radlite code and sees the same model files as the launcher (a worker with other code or other
weights would write rows this run cannot vouch for)."""

from __future__ import annotations

import hashlib
import os
from importlib import metadata

import pipelines
import radlite
from radlite import __version__
from radlite.hashing import file_sha256

_HASHES: dict[tuple, str] = {}


class ClusterNotReady(RuntimeError):
    """The Dask cluster cannot take this run; the message says why and what to do."""


def code_fingerprint() -> str:
    """sha256 of radlite's and pipelines' installed source files (paths and bytes): two installs agree
    only if they would run the same code, whatever their version strings say."""
    digest = hashlib.sha256()
    for package in (radlite, pipelines):
        root = os.path.dirname(package.__file__)
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(f for f in files if f.endswith((".py", ".yaml", ".json"))):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as fh:
                    digest.update(fh.read())
    return digest.hexdigest()


def installation() -> str:
    """The installed radlite distribution's version and its code fingerprint."""
    try:
        version = metadata.version("radlite")
    except metadata.PackageNotFoundError:
        version = __version__
    return f"{version}+{code_fingerprint()[:12]}"


def file_hashes(paths: list[str]) -> dict[str, str]:
    """path -> sha256, or why it cannot be read; cached per process by (path, size, mtime)."""
    found = {}
    for path in paths:
        try:
            stat = os.stat(path)
            key = (path, stat.st_size, stat.st_mtime_ns)
            if key not in _HASHES:
                _HASHES[key] = file_sha256(path)
            found[path] = _HASHES[key]
        except OSError as exc:
            found[path] = f"unreadable ({exc.strerror or exc})"
    return found


def worker_facts(paths: list[str]) -> tuple[str, dict[str, str]]:
    """Runs on each worker (so radlite must be installed there): its installation and model files."""
    return installation(), file_hashes(paths)


def check_dask_cluster(address: str, model_files: list[str] | None = None, timeout: float = 15.0) -> dict[str, str]:
    """worker address -> installation, once every worker runs this radlite code and holds the same
    ``model_files`` (by sha256) as this process; raises ClusterNotReady saying which worker differs."""
    try:
        from distributed import Client  # the 'dask' extra
    except ImportError:
        raise ClusterNotReady("--runner dask needs the dask extra: pip install 'radlite[dask]'") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterNotReady(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    paths = sorted(set(model_files or []))
    with client:
        if not client.scheduler_info().get("workers"):
            raise ClusterNotReady(f"the Dask scheduler at {address} has no workers; start some with "
                                  f"`dask worker {address}`")
        try:
            facts = client.run(worker_facts, paths)
        except Exception as exc:  # noqa: BLE001 - any failure to run our code there is the same problem
            raise ClusterNotReady(f"Dask workers at {address} cannot run radlite ({type(exc).__name__}: {exc}); "
                                  "install the same radlite on every worker") from None
    ours, our_files = worker_facts(paths)
    wrong = {worker: installed for worker, (installed, _) in facts.items() if installed != ours}
    if wrong:
        raise ClusterNotReady(f"Dask workers run other radlite code than this launcher ({ours}): "
                              + ", ".join(f"{w} has {v}" for w, v in wrong.items())
                              + "; install the same radlite wheel on every worker")
    for worker, (_, files) in facts.items():
        for path in paths:
            if files.get(path) != our_files[path]:
                raise ClusterNotReady(f"Dask worker {worker} sees model file {path} as {files.get(path)}, this "
                                      f"launcher as {our_files[path]}; put the same files at the same path on every "
                                      "worker")
    return {worker: installed for worker, (installed, _) in facts.items()}
