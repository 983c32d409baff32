"""llama.cpp build benchmark (not a test): what the installed llama-cpp-python build does on this CPU.

    python benchmarks/llama_build_bench.py [--threads 2] [--repeats 3] [--decode-tokens 64] [--json]

Why: scripts/install.sh builds llama.cpp for a portable baseline by default and for this host with
``RADLITE_LLAMA_BUILD=tuned``; this measures what that choice gains. It uses the llama-cpp-python of
the interpreter that runs it, so run it with each virtualenv's python and compare the lines
(docs/performance.md, "The llama.cpp build"). It prints the build's system info (the CPU features its
llama.cpp was compiled with) and, for the embedded SmolLM2-135M model, the best of ``--repeats``:

- prefill: tokens/s evaluating the 309-token synthetic smoke report of ``radlite doctor`` in one call;
- decode: tokens/s evaluating ``--decode-tokens`` more tokens one call each after it (fixed tokens, no
  sampling, so both builds do the same work).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import llama_cpp  # noqa: E402

from radlite.doctor import BUILD_RECORD, SMOKE_REPORT  # noqa: E402
from radlite.routing import embedded_model_path  # noqa: E402


@dataclass
class BuildFigures:
    """One build's measurement."""

    python: str
    llama_cpp_python: str
    #: CMAKE_ARGS recorded by scripts/install.sh beside the virtualenv, else "unknown".
    cmake_args: str
    system_info: str
    threads: int
    prompt_tokens: int
    decode_tokens: int
    prefill_tokens_per_s: float
    decode_tokens_per_s: float


def recorded_cmake_args() -> str:
    path = os.path.join(sys.prefix, BUILD_RECORD)
    if not os.path.exists(path):
        return "unknown (not installed by scripts/install.sh)"
    with open(path) as fh:
        return json.load(fh).get("cmake_args", "unknown")


def one_pass(llm: llama_cpp.Llama, prompt: list[int], follow: list[int]) -> tuple[float, float]:
    """Seconds to evaluate ``prompt`` in one call, then ``follow`` one token per call, from an empty cache."""
    llm.reset()  # the next eval drops the cache from position 0
    start = time.perf_counter()
    llm.eval(prompt)
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    for token in follow:
        llm.eval([token])
    return prefill, time.perf_counter() - start


def measure(threads: int, repeats: int, decode_tokens: int) -> BuildFigures:
    llm = llama_cpp.Llama(embedded_model_path(), n_ctx=512, n_batch=512, n_threads=threads,
                          n_threads_batch=threads, verbose=False)
    prompt = llm.tokenize(SMOKE_REPORT.encode())
    follow = prompt[1:decode_tokens + 1]
    if len(prompt) + len(follow) > llm.n_ctx():
        raise SystemExit(f"error: {len(prompt)} + {len(follow)} tokens do not fit the context of {llm.n_ctx()}")
    one_pass(llm, prompt[:32], follow[:4])  # warm-up: first-call allocations and page faults
    passes = [one_pass(llm, prompt, follow) for _ in range(repeats)]
    return BuildFigures(
        python=sys.executable, llama_cpp_python=llama_cpp.__version__, cmake_args=recorded_cmake_args(),
        system_info=llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip(), threads=threads,
        prompt_tokens=len(prompt), decode_tokens=len(follow),
        prefill_tokens_per_s=round(len(prompt) / min(p for p, _ in passes), 1),
        decode_tokens_per_s=round(len(follow) / min(d for _, d in passes), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="passes; the best is reported")
    parser.add_argument("--decode-tokens", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    figures = measure(args.threads, args.repeats, args.decode_tokens)
    if args.json:
        print(json.dumps(asdict(figures)))
        return
    print(f"python: {figures.python}")
    print(f"llama-cpp-python {figures.llama_cpp_python}; CMAKE_ARGS: {figures.cmake_args}")
    print(f"system info: {figures.system_info}")
    print(f"prefill {figures.prefill_tokens_per_s} tokens/s ({figures.prompt_tokens}-token prompt), "
          f"decode {figures.decode_tokens_per_s} tokens/s ({figures.decode_tokens} tokens, one call each), "
          f"{figures.threads} threads, best of {args.repeats}")


if __name__ == "__main__":
    main()
