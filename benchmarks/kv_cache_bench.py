"""KV-cache benchmark (not a test): what the batched context's cache layout and size cost on this CPU.

    python benchmarks/kv_cache_bench.py [--routing embedded] [--steps 30]

Why: the batched decoder (radlite/inference/batch.py) keeps every sequence in one unified llama.cpp
KV cache, and its context is sized to each run's work. This prints the two measurements behind those
choices, on the routing's first merged (else first) llama.cpp model, 2 threads:

1. creating a context, by cache cells: llama.cpp allocates and clears the whole cache, so a context
   sized for the largest possible batch costs a cold run that much before any token;
2. decode time per step (one token for each of N sequences, each with C tokens of its own context),
   with every sequence in one unified cache and with one cache stream per sequence
   (``kv_unified = false``). In the unified cache each token's attention visits every cell in use,
   so the step grows with N x N x C; with streams it grows with N x C, but llama.cpp then cuts a
   batch into micro-batches of consecutive sequence ids with equal token counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import llama_cpp  # noqa: E402

from radlite.inference.batch import decode, new_context  # noqa: E402


def step_ms(llm, sequences: int, context: int, unified: bool, steps: int, threads: int) -> float:
    """Milliseconds per decode step of ``sequences`` sequences, each after ``context`` tokens of its own."""
    per_sequence = 256 * (-(-(context + steps + 1) // 256))
    cells = per_sequence * sequences
    ctx = new_context(llm, cells=cells, n_batch=cells, sequences=sequences, threads=threads, unified=unified)
    batch = llama_cpp.llama_batch_init(max(512, sequences), 0, 1)
    text = llm.tokenize(("The chest radiograph shows clear lungs and a normal heart. " * 60).encode())
    try:
        for seq in range(sequences):  # each sequence's own context, one call each
            decode(ctx, batch, [(t, i, seq, i == context - 1) for i, t in enumerate(text[:context])])
        start = time.perf_counter()
        for k in range(steps):
            decode(ctx, batch, [(text[context + k], context + k, seq, True) for seq in range(sequences)])
        return 1000 * (time.perf_counter() - start) / steps
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routing", default="embedded")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    from radlite.inference.engine import get_model
    from radlite.routing import load_routing

    entries = [e for e in load_routing(args.routing).models.values() if e.traits.loads_files]
    entry = next((e for e in entries if e.merged), entries[0])
    model = get_model(entry)
    llm, threads = model.llm, entry.threads or os.cpu_count()
    print(f"model {entry.label()} ({model.weights}), {threads} threads")
    for cells in (1024, 5120, 16384):  # first creation of each size: the cold run's cost
        start = time.perf_counter()
        llama_cpp.llama_free(new_context(llm, cells=cells, n_batch=cells, sequences=33, threads=threads))
        print(f"context creation, {cells} cells: {1000 * (time.perf_counter() - start):.0f} ms")
    for sequences in (8, 32):
        for context in (10, 300):
            unified = step_ms(llm, sequences, context, True, args.steps, threads)
            streams = step_ms(llm, sequences, context, False, args.steps, threads)
            print(f"decode step, {sequences} sequences x {context} tokens of context: unified cache {unified:.1f} ms, "
                  f"one stream per sequence {streams:.1f} ms ({unified / streams:.2f}x)")


if __name__ == "__main__":
    main()
