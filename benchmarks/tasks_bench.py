"""Task benchmark (not a test): the published notebook loop versus `radlite run`, same model, one run.

    python benchmarks/tasks_bench.py [--reports 24]

(a) notebook loop: for each report, one full radlite-paper prompt per task (all nine), free decoding
    to the published token limits at the published temperature, as the RadLite notebook does.
(b) radlite run: the same distinct reports through the pipeline (embedded routing, radlite-v1
    prompts, grammars, task planning, shared report prefix), with an empty result cache.
Both use the same routing table (default: embedded, the SmolLM2-135M GGUF with its demo adapter).
Also printed: the model's prefill and decode tokens/s
through llama.cpp on this machine, and the share of pipeline wall time spent outside the model.
The last line reads `speedup: <ratio>x`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def distinct_reports(n: int):
    """A modality mix of distinct accepted reports from sample_data, round-robin over sources."""
    from radlite.io.validate import accepted_reports

    by_source: dict[str, list] = {}
    seen: set[str] = set()
    for report in accepted_reports([os.path.join(ROOT, "sample_data", "reports", "*")]):
        if report.text_sha256 not in seen:
            seen.add(report.text_sha256)
            by_source.setdefault(report.source, []).append(report)
    picked, queues = [], list(by_source.values())
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


def model_speed(llm) -> tuple[float, float]:
    """(prefill tokens/s, decode tokens/s) measured through llama-cpp-python."""
    prompt = llm.tokenize(("The chest radiograph shows clear lungs and a normal heart. " * 40).encode())[:480]
    llm.reset()
    start = time.perf_counter()
    llm.create_completion(prompt, max_tokens=1, temperature=0.0)
    prefill = len(prompt) / (time.perf_counter() - start)
    llm.reset()
    short = llm.tokenize(b"Describe a normal chest radiograph.")
    start = time.perf_counter()
    out = llm.create_completion(short, max_tokens=128, temperature=0.0, logit_bias={llm.token_eos(): -100.0})
    elapsed = time.perf_counter() - start - len(short) / prefill
    return prefill, out["usage"]["completion_tokens"] / elapsed


def notebook_loop(reports, questions, routing, base) -> float:
    """Seconds for the published loop: nine full paper prompts per report, free decoding, each task on
    the model (base + adapters) the routing table gives it."""
    from radlite.inference.engine import get_model
    from radlite.prompts import render_prompt
    from radlite.tasks import TASKS, TaskInstance

    start = time.perf_counter()
    for report in reports:
        for task in TASKS.values():
            # the notebook runs every task on a model: the task's own, else the routing's first model
            entry = (routing.model_for(task.name) or (None, base))[1]
            model = get_model(entry)
            model.base.activate(model.entry.adapters)
            instances = task.instances(report, questions) or [TaskInstance(task.name, report.text, "")]
            prompt = render_prompt("radlite-paper", task, instances[0], report)
            model.llm.create_completion(prompt.text, max_tokens=prompt.max_tokens, temperature=prompt.temperature,
                                        stop=list(prompt.stop))
    return time.perf_counter() - start


def pipeline_run(reports, questions_path: str, workdir: str, routing: str):
    from pipelines.options import TaskOptions
    from pipelines.run import RunConfig, run_etl
    from radlite.io.inputs import ColumnMapping, expand_inputs

    folder = os.path.join(workdir, "reports")
    os.makedirs(folder)
    for i, report in enumerate(reports):
        with open(os.path.join(folder, f"{i:04d}.txt"), "w") as fh:
            fh.write(report.text)
    config = RunConfig(inputs=expand_inputs([folder], None, ColumnMapping()), out=os.path.join(workdir, "out"),
                       tasks=TaskOptions(routing=routing, questions=questions_path))
    return run_etl(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=24)
    parser.add_argument("--routing", default="embedded", help="routing table used by both (a) and (b)")
    args = parser.parse_args()
    from radlite.inference.engine import get_model
    from radlite.routing import load_routing
    from radlite.tasks.qa import load_questions

    questions_path = os.path.join(ROOT, "sample_data", "questions.yaml")
    questions = load_questions(questions_path)
    reports = distinct_reports(args.reports)
    modalities = sorted({f"{r.modality}/{r.body_region}" for r in reports})
    print(f"{len(reports)} distinct reports from sample_data ({', '.join(modalities)})")
    routing = load_routing(args.routing)
    base = next(e for e in routing.models.values() if e.kind == "llama.cpp")
    prefill, decode = model_speed(get_model(base.model_copy(update={"adapters": ()})).llm)
    print(f"model ({os.path.basename(base.path)}, llama.cpp): prefill {prefill:.0f} tok/s, decode {decode:.1f} tok/s")
    print(f"routing: {routing.name}")
    loop_s = notebook_loop(reports, questions, routing, base)
    loop_rate = len(reports) / loop_s
    print(f"(a) notebook loop: {loop_s:.1f}s, {loop_rate:.3f} reports/s ({loop_s / len(reports):.2f} s/report)")
    with tempfile.TemporaryDirectory() as workdir:
        summary = pipeline_run(reports, questions_path, workdir, args.routing)
    run_rate = summary.accepted_new / summary.wall_seconds
    outside = 1 - summary.model_seconds / summary.wall_seconds
    valid = summary.outputs_valid / max(1, summary.outputs_valid + summary.outputs_invalid)
    print(f"(b) radlite run:   {summary.wall_seconds:.1f}s, {run_rate:.3f} reports/s "
          f"({summary.wall_seconds / len(reports):.2f} s/report), {summary.completion_tokens} tokens generated, "
          f"outputs valid {valid:.1%}")
    print(f"share of pipeline wall time outside llama.cpp: {outside:.1%}")
    print(f"speedup: {run_rate / loop_rate:.1f}x")


if __name__ == "__main__":
    main()
