"""Checks before a run goes to a Dask cluster: the scheduler answers, has workers, and every worker
runs this radlite version (a worker with another version would write rows this run cannot vouch for)."""

from __future__ import annotations

from radlite import __version__


class ClusterNotReady(RuntimeError):
    """The Dask cluster cannot take this run; the message says why and what to do."""


def radlite_version() -> str:
    """Runs on each worker (so it must be importable there: the radlite package is installed)."""
    return __version__


def check_dask_cluster(address: str, timeout: float = 15.0) -> dict[str, str]:
    """worker address -> radlite version, once every worker is checked; raises ClusterNotReady."""
    try:
        from distributed import Client  # the 'dask' extra
    except ImportError:
        raise ClusterNotReady("--runner dask needs the dask extra: pip install 'radlite[dask]'") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterNotReady(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        if not client.scheduler_info().get("workers"):
            raise ClusterNotReady(f"the Dask scheduler at {address} has no workers; start some with "
                                  f"`dask worker {address}`")
        try:
            versions = client.run(radlite_version)
        except Exception as exc:  # noqa: BLE001 - any failure to run our code there is the same problem
            raise ClusterNotReady(f"Dask workers at {address} cannot run radlite ({type(exc).__name__}: {exc}); "
                                  "install the same radlite on every worker") from None
    wrong = {worker: version for worker, version in versions.items() if version != __version__}
    if wrong:
        raise ClusterNotReady(f"Dask workers run another radlite version than this one ({__version__}): "
                              + ", ".join(f"{w} has {v}" for w, v in wrong.items()))
    return versions
