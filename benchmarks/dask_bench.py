"""Scale-out on this machine: reports/s through Beam's DaskRunner with 1 vs 2 Dask workers (1 thread each).

    python benchmarks/dask_bench.py [--reports 40] [--routing embedded-base] [--tasks rads_assignment]

Each arm starts a fresh scheduler and worker processes on 127.0.0.1, runs `radlite run --runner dask`
on the same SYNTHETIC reports into a fresh OUT (empty result cache), and prints reports/s; the last
line is the ratio. The model runs with 1 llama.cpp thread per worker, so two workers use both cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import yaml
from distributed import LocalCluster

from radlite.routing import load_routing
from training.data.synthetic_reports import generate_reports


def single_thread_routing(name: str, path: str) -> str:
    """The routing table with every model on one llama.cpp thread (one core per Dask worker)."""
    table = load_routing(name)
    data = json.loads(table.model_dump_json(exclude={"origin", "manifest"}))
    for entry in data["models"].values():
        entry["threads"] = 1
    with open(path, "w") as fh:
        yaml.safe_dump(data, fh)
    return path


def run(workers: int, reports_dir: str, routing: str, tasks: str, work: str) -> float:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        out = os.path.join(work, f"out-{workers}")
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "radlite_cli", "run", reports_dir, "--out", out,
                                 "--routing", routing, "--tasks", tasks, "--runner", "dask", "--dask-address",
                                 cluster.scheduler_address, "--quiet", "--summary-json", out + ".json"],
                                capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    summary = json.load(open(out + ".json"))
    return summary["accepted"] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--routing", default="embedded-base")
    parser.add_argument("--tasks", default="rads_assignment")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        reports_dir = os.path.join(work, "reports")
        os.makedirs(reports_dir)
        for i, report in enumerate(generate_reports(args.reports, seed=7)):
            with open(os.path.join(reports_dir, f"synthetic-{i:04d}.txt"), "w") as fh:
                fh.write(report.text)
        routing = single_thread_routing(args.routing, os.path.join(work, "routing.yaml"))
        rates = {n: run(n, reports_dir, routing, args.tasks, work) for n in (1, 2)}
    for n, rate in rates.items():
        print(f"{n} Dask worker{'s' if n > 1 else ''}: {rate:.2f} reports/s ({args.reports} SYNTHETIC reports, "
              f"{args.tasks} on {args.routing}, 1 thread per worker)")
    print(f"speedup 2 vs 1 workers: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
