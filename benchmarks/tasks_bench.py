"""Task benchmark (not a test): the published notebook loop versus `radlite run`, same model, one run.

    python benchmarks/tasks_bench.py [--reports 24]

(a) notebook loop: for each report, one full radlite-paper prompt per task (all nine), free decoding
    to the published token limits at the published temperature, one prompt at a time, as the
    RadLite notebook does.
(b) radlite run: the same distinct reports through the pipeline (embedded routing, radlite-v1
    prompts, grammars, task planning, shared report prefix), with an empty result cache.
    Its model step is RunInference: a batch of reports decoded together, each report's prompt
    prefix evaluated once and forked into its tasks' sequences.
Both use the same routing table (default: embedded: rules, and the SmolLM2-135M GGUF with a demo
adapter merged into its weights per routed model), and both start warm: every routed model is loaded
(and its adapters merged) once, in the process-wide model cache both arms read, before either is
timed; that load time is printed on its own line and charged to neither arm.
Also printed: the base model's prefill, single-sequence and batched decode tokens/s through the
decoder (radlite/inference/batch.py; one sequence is a group of one) on this machine; the share of
(b)'s wall time spent outside llama.cpp; the model load time, apart; prefill tokens (b) evaluated
against the minimum; the roofline of (b)'s own work, per routed model at its own measured rates,

    (each batch's system prompt once + each report's prefix once + task tags) / prefill rate
        + answer tokens / best batched decode rate

and the efficiency roofline / actual; for each routed model whose adapters are merged into its
weights, its rates against the same adapters applied by llama.cpp at run time; (b)'s model step
twice more, warm, with the system prompt evaluated per report and once per batch (BatchDecoder's
``share_root``); the model step alone one prompt at a time (each a run of its own) against batched
(time, and how many task answers differ: batching changes llama.cpp's rounding, so near-ties may
part); reports per hour per core; and hours per million reports for the embedded model and,
projected from the same per-report token counts, for the published 3B/4B models at their published
CPU decode rates (7.7 and 4.4 tok/s) with a prefill rate scaled from the embedded model's by
parameter count (stated, not measured: no 3B/4B GGUF is here).
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


#: (name, billions of parameters, published CPU decode tokens/s) of the paper's models.
PUBLISHED = [("Qwen2.5-3B RadLite", 3.09, 7.7), ("Qwen3-4B RadLite", 4.02, 4.4)]
EMBEDDED_PARAMS_B = 0.135


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


#: Rates are the best of this many timings: a roofline is what the machine reaches, and on a shared
#: machine a single timing moves by 20% from run to run.
TIMINGS = 3


def bench_decoder(model, **knobs):
    """A BatchDecoder of the bench's own over a routed model (its runtime adapters applied), with
    ``knobs`` (n_ctx, n_seq, share_root) other than the pipeline's."""
    from radlite.inference.batch import BatchDecoder

    decoder = BatchDecoder(model.llm, **{"n_ctx": model.base.n_ctx, "threads": model.base.threads, **knobs})
    if model.adapters:
        decoder.set_adapters(model.base.handles(model.adapters), [a.scale for a in model.adapters])
    return decoder


class OwnDecoder:
    """A routed model whose prompts the bench's own decoder (``bench_decoder``) decodes, by the engine's code."""

    def __init__(self, model, **knobs):
        self.model, self.entry, self.identity = model, model.entry, model.identity
        self.decoder = bench_decoder(model, **knobs)

    def generate_groups(self, groups):
        from radlite.inference.engine import decode_groups

        return decode_groups(self.decoder, self.model.llm, self.entry.seed, groups)


class OneAtATime(OwnDecoder):
    """A routed model whose prompts decode one at a time (a decoder with one sequence): the baseline
    batching is measured against. Each group (a report's prompts) is one run of groups of one, so the
    prefix its prompts share is evaluated once, as llama-cpp-python's prompt cache does for consecutive
    calls (the notebook's, and radlite's own before every call went through BatchDecoder)."""

    def __init__(self, model):
        super().__init__(model, n_seq=1)

    def generate_groups(self, groups):
        from radlite.inference.batch import GroupCost

        out = []
        for prompts in groups:
            results = super().generate_groups([[prompt] for prompt in prompts])
            failed = next((r for r, _ in results if isinstance(r, Exception)), None)
            cost = GroupCost(sum(c.prefill_tokens for _, c in results), sum(c.seconds for _, c in results))
            out.append((failed or [r[0] for r, _ in results], cost))
        return out


def model_speed(model) -> tuple[float, float]:
    """(prefill tokens/s, decode tokens/s) of a routed model (runtime adapters applied), one sequence
    through the decoder; prefill the best of TIMINGS."""
    from radlite.inference.batch import Request

    decoder = bench_decoder(model, n_seq=1)
    llm = model.llm
    prompt = tuple(llm.tokenize(("The chest radiograph shows clear lungs and a normal heart. " * 40).encode())[:480])
    prefill = 0.0
    for _ in range(TIMINGS):
        start = time.perf_counter()
        decoder.run([[Request(prompt, 1)]])
        prefill = max(prefill, len(prompt) / (time.perf_counter() - start))
    decoder.close()
    return prefill, decode_speed(model, sequences=1, tokens=128)


def decode_speed(model, sequences: int = 32, tokens: int = 48) -> float:
    """Decode tokens/s of a routed model (its runtime adapters applied) with ``sequences`` answers decoded
    together (BatchDecoder, no grammar); the best of two timings."""
    from radlite.inference.batch import Request

    llm = model.llm
    decoder = bench_decoder(model, n_ctx=1024, n_seq=sequences)
    prompts = [tuple(llm.tokenize(f"Write a long radiology report number {i}:".encode())) for i in range(sequences)]

    def timed(max_tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        results = decoder.run([[Request(p, max_tokens)] for p in prompts])
        return time.perf_counter() - start, sum(c.completion_tokens for r, _ in results for c in r)

    rates = []
    for _ in range(2):
        prefill_s, first = timed(1)
        full_s, generated = timed(tokens + 1)
        rates.append((generated - first) / (full_s - prefill_s))
    decoder.close()
    return max(rates)


def planned_reports(reports, questions_path: str, routing: str, load_model=None):
    """(stage, processor, one planned RecordWork per report) as the pipeline's prepare step makes them:
    the rules have answered, ``pending`` holds the model calls; ``load_model`` replaces the engine's
    (OneAtATime, OwnDecoder)."""
    from pipelines.options import TaskOptions
    from pipelines.process import ACCEPTED_NEW, RecordProcessor, RecordWork
    from pipelines.task_stage import TaskStage
    from radlite.inference.engine import get_model
    from radlite.io.records import IngestLimits

    stage = TaskStage.resolve(TaskOptions(routing=routing, questions=questions_path))
    processor = RecordProcessor(IngestLimits(), frozenset(), frozenset(), stage, "bench", None,
                                load_model=load_model or get_model)
    works = [RecordWork("bench", i, ACCEPTED_NEW, report=report) for i, report in enumerate(reports)]
    for work in works:
        processor.plan(work)
    return stage, processor, works


def minimum_work(reports, questions_path: str, routing: str) -> tuple[dict[str, int], int]:
    """(routed model key -> prefill tokens at the minimum, the same summed per report). The minimum:
    in each RunInference batch (REPORTS_PER_BATCH reports, as the pipeline cuts them), what all the
    prompts sent to a model share (the system prompt) once, then per report every distinct prefix of
    its prompts to that model once (report + task tags). Per report: system + report + task tags, the
    system prompt counted for every report."""
    from pipelines.inference import REPORTS_PER_BATCH
    from radlite.inference.batch import fewest_prefill_tokens, prefix_tree, tree_tokens
    from radlite.inference.engine import get_model, prompt_tokens
    from radlite.inference.runner import plan_calls

    stage, _, works = planned_reports(reports, questions_path, routing)
    by_model: dict[str, int] = {}
    per_report = 0
    for first in range(0, len(works), REPORTS_PER_BATCH):
        groups: dict[str, list[list[tuple]]] = {}
        for work in works[first:first + REPORTS_PER_BATCH]:
            for key, instances in work.pending.items():  # each model's prompts share a prefix on that model only
                model = get_model(stage.routing.models[key])
                calls = plan_calls(model, work.report, instances, "bench")
                groups.setdefault(key, []).append([tuple(prompt_tokens(model.llm, c.prompt)) for c in calls])
        for key, prompts in groups.items():
            by_model[key] = by_model.get(key, 0) + fewest_prefill_tokens(prompts)
            per_report += sum(tree_tokens(prefix_tree(p)) for p in prompts)
    return by_model, per_report


def model_step_agreement(reports, questions_path: str, routing: str) -> tuple[float, float, int, int, dict[str, int]]:
    """The model step alone on the same reports, one prompt at a time (OneAtATime) and batched (all
    reports in one RunInference batch): (one-at-a-time seconds, batched seconds, task answers that
    differ, task answers, answer tokens per routed model in the batched pass).
    Greedy decoding either way; llama.cpp's kernels round a sequence's logits slightly differently in a
    batch, so answers at a near-tie may part (tests/inference/test_batched.py checks they are near-ties)."""
    from radlite.inference.engine import get_model
    from radlite.inference.runner import answers_by_prompt

    seconds, answers = [], []
    for load_model in (lambda entry: OneAtATime(get_model(entry)), get_model):
        _, processor, works = planned_reports(reports, questions_path, routing, load_model)
        start = time.perf_counter()
        tokens = processor.answer(works)
        seconds.append(time.perf_counter() - start)
        answers.append([answers_by_prompt(work.rows) for work in works])
    pairs = [(one[sha], together.get(sha)) for one, together in zip(*answers, strict=True) for sha in one]
    return seconds[0], seconds[1], sum(a != b for a, b in pairs), len(pairs), tokens


def shared_root_seconds(reports, questions_path: str, routing: str) -> dict[bool, float]:
    """The shared system prompt's worth: (b)'s model step, warm, cut into RunInference batches as the
    pipeline cuts them, by decoders with ``share_root`` False (the system prompt evaluated per report)
    and True (once per batch); seconds for each."""
    from pipelines.inference import REPORTS_PER_BATCH
    from radlite.inference.engine import get_model

    seconds = {}
    for shared in (False, True):
        _, processor, works = planned_reports(reports, questions_path, routing,
                                              lambda entry, shared=shared: OwnDecoder(get_model(entry),
                                                                                      share_root=shared))
        start = time.perf_counter()
        for first in range(0, len(works), REPORTS_PER_BATCH):
            processor.answer(works[first:first + REPORTS_PER_BATCH])
        seconds[shared] = time.perf_counter() - start
    return seconds


def notebook_entries(routing, base) -> dict:
    """task name -> the model entry the notebook loop runs it on: the task's own, else the routing's
    first model (the notebook runs every task on a model)."""
    from radlite.tasks import TASKS

    return {name: (routing.model_for(name) or (None, base))[1] for name in TASKS}


def load_models(routing, base) -> float:
    """Seconds to load every model either arm uses (llama.cpp weights, merged adapters) into the
    process-wide cache both arms read: after this, neither arm loads a model inside its timing."""
    from radlite.inference.engine import get_model, weights_path

    start = time.perf_counter()
    entries = {e.label(): e for e in [*notebook_entries(routing, base).values(), *routing.models.values()]
               if e.traits.loads_files}
    for entry in entries.values():
        weights_path(entry)  # merged adapters: written once and cached
        model = get_model(entry)  # the weights, loaded once per process
        if model.adapters:  # adapters applied at run time: their handles, loaded once per base
            model.base.handles(model.adapters)
    return time.perf_counter() - start


def notebook_loop(reports, questions, routing, base) -> float:
    """Seconds for the published loop: nine full paper prompts per report, free decoding, each task on
    the model (base + adapters) the routing table gives it, one prompt at a time (OneAtATime).
    The models are loaded beforehand (load_models), as they are for (b)."""
    from radlite.inference.engine import get_model
    from radlite.prompts import render_prompt
    from radlite.tasks import TASKS, TaskInstance

    entries = notebook_entries(routing, base)
    models: dict[str, OneAtATime] = {}
    start = time.perf_counter()
    for report in reports:
        prompts: dict[str, list] = {}  # a report's prompts per model, in task order
        for task in TASKS.values():
            entry = entries[task.name]
            if entry.label() not in models:
                models[entry.label()] = OneAtATime(get_model(entry))
            instances = task.instances(report, questions) or [TaskInstance(task.name, report.text, "")]
            prompts.setdefault(entry.label(), []).append(render_prompt("radlite-paper", task, instances[0], report))
        for label, group in prompts.items():
            models[label].generate_groups([group])
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
    base = next(e for e in routing.models.values() if e.traits.loads_files)
    bare = get_model(base.model_copy(update={"adapters": (), "merge": None}))
    prefill, decode = model_speed(bare)
    batched = decode_speed(bare)
    print(f"base model ({os.path.basename(base.path)}, llama.cpp, {bare.base.threads} threads): "
          f"prefill {prefill:.0f} tok/s, "
          f"decode {decode:.1f} tok/s one sequence, {batched:.1f} tok/s 32 sequences together")
    print(f"routing: {routing.name}")
    print(f"model load (every routed model, adapters merged; before both arms, charged to neither): "
          f"{load_models(routing, base):.1f}s")
    loop_s = notebook_loop(reports, questions, routing, base)
    loop_rate = len(reports) / loop_s
    print(f"(a) notebook loop (warm models): {loop_s:.1f}s, {loop_rate:.3f} reports/s "
          f"({loop_s / len(reports):.2f} s/report)")
    with tempfile.TemporaryDirectory() as workdir:
        summary = pipeline_run(reports, questions_path, workdir, args.routing)
    run_rate = summary.accepted_new / summary.wall_seconds
    outside = 1 - summary.model_seconds / summary.wall_seconds
    valid = summary.outputs_valid / max(1, summary.outputs_valid + summary.outputs_invalid)
    print(f"(b) radlite run (warm models):   {summary.wall_seconds:.1f}s, {run_rate:.3f} reports/s "
          f"({summary.wall_seconds / len(reports):.2f} s/report), {summary.completion_tokens} tokens generated, "
          f"outputs valid {valid:.1%}")
    print(f"share of pipeline wall time outside llama.cpp: {outside:.1%}")
    minimum_by_model, per_report_minimum = minimum_work(reports, questions_path, args.routing)
    minimum = sum(minimum_by_model.values())
    print(f"prefill tokens evaluated: {summary.prefill_tokens} against a minimum of {minimum} "
          f"({summary.prefill_tokens / max(1, minimum):.2f}x; the system prompt once per batch and model) and "
          f"{per_report_minimum} per report ({summary.prefill_tokens / max(1, per_report_minimum):.2f}x; system + "
          f"report + task tags for each); prompt tokens of all calls {summary.prompt_tokens}; "
          f"{summary.rules_answered} task instances answered by the rules, never sent to a model")
    single_s, batched_s, differ, answers, tokens_by_model = model_step_agreement(reports, questions_path, args.routing)
    print(f"model step alone: one prompt at a time {single_s:.1f}s, batched {batched_s:.1f}s "
          f"({single_s / batched_s:.2f}x); task answers that differ between them: {differ} of {answers} "
          f"({differ / max(1, answers):.1%})")
    # The roofline: the same work at the best rates each routed model reaches through llama.cpp alone
    # (prefill; decode one sequence or 32 together). Measured per model: merged adapters make a model of
    # their own, runtime adapters add matrix products to every token of theirs.
    roofline, parts, merge_lines = 0.0, [], []
    for key, prefix_tokens in sorted(minimum_by_model.items()):
        entry = routing.models[key]
        if not entry.adapters and entry.path == base.path:
            model_prefill, model_best = prefill, max(decode, batched)
        else:
            model = get_model(entry)
            model_prefill, model_decode = model_speed(model)
            model_best = max(model_decode, decode_speed(model))
        roofline += prefix_tokens / model_prefill + tokens_by_model.get(key, 0) / model_best
        parts.append(f"{key} ({get_model(entry).weights}): {prefix_tokens} / {model_prefill:.0f} + "
                     f"{tokens_by_model.get(key, 0)} / {model_best:.1f}")
        if entry.merge and entry.adapters:  # what merging buys: the same adapters applied at run time
            runtime = get_model(entry.model_copy(update={"merge": None}))
            runtime_prefill, runtime_decode = model_speed(runtime)
            runtime_best = max(runtime_decode, decode_speed(runtime))
            merge_lines.append(f"{key}: prefill {model_prefill:.0f} vs {runtime_prefill:.0f} tok/s "
                               f"({model_prefill / runtime_prefill:.2f}x), best decode {model_best:.1f} vs "
                               f"{runtime_best:.1f} tok/s ({model_best / runtime_best:.2f}x)")
    print(f"roofline of (b)'s work at each routed model's own rates (prefix tokens / prefill tok/s + answer "
          f"tokens of the model step's batched pass / best decode tok/s): {roofline:.1f}s ({'; '.join(parts)}); "
          f"efficiency roofline/actual {roofline / summary.wall_seconds:.2f}")
    for line in merge_lines:
        print(f"adapters merged (Q8_0) vs applied at run time, {line}")
    seconds = shared_root_seconds(reports, questions_path, args.routing)
    print(f"(b)'s model step again, warm, in RunInference batches: system prompt evaluated per report "
          f"{seconds[False]:.1f}s, once per batch {seconds[True]:.1f}s ({seconds[False] / seconds[True]:.2f}x)")
    cores = os.cpu_count()
    print(f"reports per hour per core: {3600 * run_rate / cores:.0f} ({cores} cores)")
    per_report_prefill, per_report_answer = minimum / len(reports), summary.completion_tokens / len(reports)
    print(f"hours per million reports: embedded {1e6 / run_rate / 3600:.0f} h (measured)")
    for name, params_b, decode_rate in PUBLISHED:
        scaled_prefill = prefill * EMBEDDED_PARAMS_B / params_b
        hours = 1e6 * (per_report_prefill / scaled_prefill + per_report_answer / decode_rate) / 3600
        print(f"  {name}: {hours:.0f} h projected ({per_report_prefill:.0f} prefill tokens at {scaled_prefill:.1f} "
              f"tok/s [scaled by parameters, stated] + {per_report_answer:.0f} answer tokens at {decode_rate} tok/s "
              f"[published] per report, one process)")
    print(f"speedup: {run_rate / loop_rate:.1f}x")


if __name__ == "__main__":
    main()
