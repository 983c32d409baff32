"""Small fixtures in the real input formats, and a helper to run the ETL in process."""

import json
import os
import random
import subprocess
import sys
import zipfile

from pipelines.options import OutputOptions, RunnerOptions, TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.io.records import IngestLimits
from radlite.store import OutputStore

GOOD = "EXAMINATION: CHEST (PA AND LAT)\nFINDINGS: Lungs are clear.\nIMPRESSION: No acute process. {n}\n"


def write_bad_inputs(directory: str) -> dict[str, int]:
    """Plant every bad-input kind; returns expected reject counts by reason."""
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(0)
    with zipfile.ZipFile(os.path.join(directory, "bad.zip"), "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("files/p10/p10000001/s50000001.txt", GOOD.format(n=1))
        zf.writestr("files/p10/p10000002/s50000002.txt", b"FINDINGS: caf\xe9 au lait")  # not_utf8
        zf.writestr("files/p10/p10000003/s50000003.txt", "")  # empty
        zf.writestr("files/p10/p10000004/s50000004.txt", "   \n\t  \n")  # empty (whitespace)
        zf.writestr("files/p10/p10000005/s50000005.txt", bytes(rng.randrange(256) for _ in range(800)))  # binary
        zf.writestr("files/p10/p10000006/s50000006.txt",
                    " ".join(rng.choice(["lung", "clear", "heart", "normal"]) for _ in range(2000)))  # too_large
        zf.writestr("files/p10/p10000007/s50000007.txt", "A" * 2_000_000)  # compression_bomb
        zf.writestr("../escape.txt", GOOD.format(n=2))  # unsafe_path
        zf.writestr("/etc/absolute.txt", GOOD.format(n=3))  # unsafe_path
        zf.writestr("files/p10/p10000001/s50000001.txt", GOOD.format(n=4))  # duplicate_id
    with open(os.path.join(directory, "bad.csv"), "w") as fh:
        fh.write("id,text\n")
        fh.write("a1,\"FINDINGS: clear lungs.\"\n")
        fh.write("a2,\"FINDINGS: clear\",extra-field\n")  # malformed_csv_row
        fh.write("a1,\"FINDINGS: same id again.\"\n")  # duplicate_id
    with open(os.path.join(directory, "bad.jsonl"), "w") as fh:
        fh.write(json.dumps({"id": "j1", "text": "FINDINGS: normal."}) + "\n")
        fh.write("{not json}\n")  # malformed_jsonl
        fh.write("[1, 2]\n")  # malformed_jsonl
    return {"not_utf8": 1, "empty": 2, "binary": 1, "too_large": 1, "compression_bomb": 1, "unsafe_path": 2,
            "duplicate_id": 2, "malformed_csv_row": 1, "malformed_jsonl": 2}


def write_good_folder(directory: str, n: int, start: int = 0) -> None:
    os.makedirs(directory, exist_ok=True)
    for i in range(start, start + n):
        with open(os.path.join(directory, f"r{i:05d}.txt"), "w") as fh:
            fh.write(GOOD.format(n=i))


def ingest(paths, out, max_report_bytes=4096, full=False, workers=1):
    """Run the ETL with no model tasks; returns the summary."""
    config = RunConfig(inputs=expand_inputs(list(paths), None, ColumnMapping()), out=out,
                       limits=IngestLimits(max_report_bytes=max_report_bytes), tasks=TaskOptions(tasks="none"),
                       runner=RunnerOptions(workers=workers), output=OutputOptions(full=full))
    return run_etl(config)


def table_rows(out: str, table: str, drop=("run_id",)) -> list[tuple]:
    """Sorted committed rows of a table, without per-run columns, for content comparisons."""
    t = OutputStore(out).read_table(table)
    t = t.drop_columns([c for c in drop if c in t.column_names])
    return sorted(tuple(json.dumps(v, sort_keys=True, default=str) for v in row.values()) for row in t.to_pylist())


_KILLED_RUN = """
import os, sys
from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs
point, src, out = sys.argv[1:4]
def die_at(step):
    if step == point:
        os._exit(137)
run_etl(RunConfig(inputs=expand_inputs([src], None, ColumnMapping()), out=out,
                  tasks=TaskOptions(tasks="none")), on_step=die_at)
"""


def run_killed_at(step: str, src: str, out: str) -> int:
    """Run the ETL in a new process that dies abruptly (like SIGKILL) at ``step``; returns its exit code."""
    return subprocess.run([sys.executable, "-c", _KILLED_RUN, step, src, out], capture_output=True).returncode
