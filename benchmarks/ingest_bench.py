"""Ingestion benchmark (not a test): generated archive of short reports, inference switched off.

    python benchmarks/ingest_bench.py [--sizes 10000,100000]

For each size, in a fresh child process, it writes a zip of SYNTHETIC short reports in the
MIMIC-CXR layout, runs the ETL with --tasks none (read -> validate -> write Parquet + catalog) and
prints reports/s and the child's peak RSS. The last line compares the peak RSS of the largest run
with the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def make_archive(path: str, n: int) -> None:
    from training.data.synthetic_reports import generate_reports

    templates = [r.text for r in generate_reports(50, seed=7)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            patient = 10000000 + i // 3
            zf.writestr(f"files/p{str(patient)[:2]}/p{patient}/s{50000000 + i}.txt",
                        templates[i % len(templates)] + f"\nAccession {i}.\n")


def child(n: int, workdir: str) -> dict:
    """Runs in a fresh process so that ru_maxrss is this size's peak alone."""
    from pipelines.options import TaskOptions
    from pipelines.run import RunConfig, run_etl
    from radlite.io.inputs import ColumnMapping, expand_inputs

    archive = os.path.join(workdir, f"synthetic-{n}.zip")
    make_archive(archive, n)
    config = RunConfig(inputs=expand_inputs([archive], None, ColumnMapping()), out=os.path.join(workdir, f"out-{n}"),
                       tasks=TaskOptions(tasks="none"))
    summary = run_etl(config)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"reports": n, "accepted": summary.accepted, "wall_s": summary.wall_seconds,
            "reports_per_s": summary.reports_per_second, "peak_rss_mib": round(peak_kib / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.workdir)))
        return
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for n in (int(s) for s in args.sizes.split(",")):
            out = subprocess.run([sys.executable, __file__, "--child", str(n), "--workdir", workdir],
                                 capture_output=True, text=True, check=True, cwd=ROOT).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results.append(result)
            print(f"{n:>7} reports: {result['reports_per_s']:8.0f} reports/s, wall {result['wall_s']:6.1f}s, "
                  f"peak RSS {result['peak_rss_mib']:7.1f} MiB")
    small, large = results[0], results[-1]
    print(f"peak RSS ratio {large['reports']}/{small['reports']}: {large['peak_rss_mib'] / small['peak_rss_mib']:.2f}")


if __name__ == "__main__":
    main()
