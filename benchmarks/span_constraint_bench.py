"""What the report-span constraint costs (not a test): extractive fields decoded under the report's spans
against the same prompts under the task grammars alone, one run, the same routed models.

    python benchmarks/span_constraint_bench.py [--reports 6] [--repeats 1] [--routing embedded]

For ``--reports`` distinct sample reports (sample_data, a modality mix), every prompt of every task the
routing sends to a language model (not a rules cascade) is rendered twice: (u) with its grammar
without the report's spans (the decoding before radlite.tasks.report_span_grammar), (c) as the
pipeline renders it now. Each arm renders its prompts (timed: (c) builds the span grammars there) and
decodes them per model in a fresh decoder, a report's prompts as one group, as the pipeline's model
step does (timed: the whole model step, and inside it the grammar's own work: making each prompt's
sampler, where llama.cpp parses a grammar it has not seen, and sampling each token under it). The
arms alternate, the better of ``--repeats`` timings each.

The constraint's cost is what it adds: (c)'s render and grammar time minus (u)'s, as a share of the
smaller of the two arms' model steps (on a shared machine a load spike in one arm must not shrink it).
The whole model step is printed too, but the two arms decode different answers (the constraint cuts
some short), so its difference is the answers' lengths, not the constraint's work.
Also printed: answer tokens, answers that differ, and the extractive fields that are spans of their
report in each arm; then, for a 3,000-character report made of sample reports, each task's span
grammar size, build and llama.cpp parse time. The last line reads `extra cost: <percent>% of model time`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import llama_cpp  # noqa: E402
from tasks_bench import distinct_reports  # noqa: E402

from radlite.inference.batch import BatchDecoder  # noqa: E402
from radlite.inference.engine import decode_groups, get_model  # noqa: E402
from radlite.prompts import render_prompt  # noqa: E402
from radlite.report import build_report  # noqa: E402
from radlite.routing import load_routing  # noqa: E402
from radlite.tasks import TASKS  # noqa: E402
from radlite.tasks.base import SPAN_SOURCE, ParseError, span_source  # noqa: E402
from radlite.tasks.qa import NOT_STATED, load_questions  # noqa: E402
from radlite.tasks.report_span_grammar import is_span  # noqa: E402

QUESTIONS = os.path.join(ROOT, "sample_data", "questions.yaml")
#: (task, the longest text its extractive field may be): the fields the span grammar constrains.
EXTRACTIVE = {"radiology_ner": 24, "temporal_comparison": 24, "radiology_qa": 80}


def model_tasks(routing) -> dict[str, str]:
    """Task -> routing key, for the tasks the routing sends to a language model alone."""
    out = {}
    for task in TASKS:
        chain = routing.chain(task)
        if len(chain) == 1 and routing.models[chain[0]].traits.loads_files:
            out[task] = chain[0]
    return out


def without_spans(instance):
    """The instance with no report spans: its extractive fields decode under the task grammar alone."""
    return replace(instance, context={k: v for k, v in instance.context.items() if k != SPAN_SOURCE})


def render(routing, tasks: dict[str, str], reports, questions, constrained: bool):
    """Per routing key, per report, the (task, instance, prompt) triples; and the seconds rendering took."""
    start = time.perf_counter()
    by_model: dict[str, list[list]] = {key: [[] for _ in reports] for key in set(tasks.values())}
    for index, report in enumerate(reports):
        for name, key in tasks.items():
            task = TASKS[name]
            if task.skip_reason(report):
                continue
            for instance in task.instances(report, questions):
                shown = instance if constrained else without_spans(instance)
                prompt = render_prompt(routing.models[key].profile, task, shown, report)
                by_model[key][index].append((task, instance, prompt))
    return by_model, time.perf_counter() - start


class TimedDecoder(BatchDecoder):
    """The pipeline's decoder, timing its grammar work: making samplers (parsing new grammars) and sampling."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.grammar_seconds = 0.0

    def _sampler(self, request):
        start = time.perf_counter()
        try:
            return super()._sampler(request)
        finally:
            self.grammar_seconds += time.perf_counter() - start

    def _advance(self, seq, logits_index):
        start = time.perf_counter()
        try:
            return super()._advance(seq, logits_index)
        finally:
            self.grammar_seconds += time.perf_counter() - start


def decode(routing, by_model) -> tuple[dict, float, float, int]:
    """Every prompt decoded, per model in a fresh decoder (grammars parsed anew): the answers, the model
    step's seconds, the seconds of its grammar work (samplers and sampling) and the answer tokens."""
    answers, seconds, grammar_seconds, tokens = {}, 0.0, 0.0, 0
    for key, groups in by_model.items():
        model = get_model(routing.models[key])
        decoder = TimedDecoder(model.llm, n_ctx=model.base.n_ctx, threads=model.base.threads)
        if model.adapters:
            decoder.set_adapters(model.base.handles(model.adapters), [a.scale for a in model.adapters])
        start = time.perf_counter()
        results = decode_groups(decoder, model.llm, model.entry.seed, [[p for _, _, p in g] for g in groups])
        seconds += time.perf_counter() - start
        grammar_seconds += decoder.grammar_seconds
        decoder.close()
        for index, (completions, _) in enumerate(results):
            if isinstance(completions, Exception):
                raise completions
            for slot, completion in enumerate(completions):
                answers[(key, index, slot)] = completion.text
                tokens += completion.completion_tokens
    return answers, seconds, grammar_seconds, tokens


def extractive_fields(task, raw: str) -> list[str]:
    """The texts a task's answer copies from the report (entity texts, findings, a free-text answer)."""
    try:
        result = task.parse(raw)
    except ParseError:
        return []
    if task.name == "radiology_ner":
        return [e.text for e in result.entities]
    if task.name == "temporal_comparison":
        return [c.finding for c in result.changes]
    return [result.answer] if result.answer != NOT_STATED else []


def grounded_share(by_model, answers) -> tuple[int, int]:
    """(extractive fields that are spans of their report, all extractive fields) over the answers."""
    spans = total = 0
    for key, groups in by_model.items():
        for index, group in enumerate(groups):
            for slot, (task, instance, _) in enumerate(group):
                source = span_source(instance)
                if task.name not in EXTRACTIVE or source is None:
                    continue
                for text in extractive_fields(task, answers[(key, index, slot)]):
                    total += 1
                    spans += is_span(text.strip(), source, EXTRACTIVE[task.name])
    return spans, total


def long_report_grammars(reports, questions, routing) -> None:
    """Size, build and parse time of each task's span grammar for a 3,000-character report."""
    text = ""
    for report in reports:
        text += report.text + "\n"
    report = build_report("bench", "long", (text * (1 + 3000 // max(1, len(text))))[:3000])
    llm = get_model(routing.model_for("radiology_ner")[1]).llm
    for name in EXTRACTIVE:
        task = TASKS[name]
        for instance in task.instances(report, questions):
            if span_source(instance) is None:
                continue
            start = time.perf_counter()
            grammar = task.answer_format(instance).grammar
            built = time.perf_counter() - start
            sampler = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, grammar.encode(), b"root")
            parsed = time.perf_counter() - start - built
            llama_cpp.llama_sampler_free(sampler)
            print(f"  {name}: {grammar.count('::=')} rules, {len(grammar):,} characters; "
                  f"build {1e3 * built:.1f} ms, llama.cpp parse {1e3 * parsed:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--routing", default="embedded")
    args = parser.parse_args()
    routing, questions = load_routing(args.routing), load_questions(QUESTIONS)
    reports = distinct_reports(args.reports)
    tasks = model_tasks(routing)
    print(f"{len(reports)} reports; tasks on a model: {', '.join(sorted(tasks))}")
    for key in set(tasks.values()):
        get_model(routing.models[key])  # loaded (and merged) before any timing
    best: dict[bool, tuple] = {}
    prompts, answers = {}, {}
    for _ in range(args.repeats):
        for constrained in (False, True):
            prompts[constrained], rendering = render(routing, tasks, reports, questions, constrained)
            answers[constrained], model, grammar, tokens = decode(routing, prompts[constrained])
            if constrained not in best or rendering + grammar < best[constrained][0] + best[constrained][2]:
                best[constrained] = (rendering, model, grammar, tokens)
    (render_u, model_u, grammar_u, _), (render_c, model_c, grammar_c, _) = best[False], best[True]
    n_prompts = len(answers[False])
    differ = sum(answers[False][k] != answers[True][k] for k in answers[False])
    for label, (rendering, model, grammar, tokens) in (("(u) task grammars only", best[False]),
                                                        ("(c) with report spans ", best[True])):
        print(f"{label}: render {rendering:.3f} s, model step {model:.2f} s of which grammar work "
              f"{grammar:.3f} s, {tokens} answer tokens ({n_prompts} prompts)")
    print(f"answers that differ: {differ} of {n_prompts}")
    for arm, label in ((False, "(u)"), (True, "(c)")):
        spans, total = grounded_share(prompts[arm], answers[arm])
        print(f"{label} extractive fields that are spans of their report: {spans} of {total}")
    print("3,000-character report:")
    long_report_grammars(reports, questions, routing)
    extra = (render_c + grammar_c) - (render_u + grammar_u)
    print(f"extra cost: {extra:.3f} s = {100 * extra / min(model_u, model_c):.1f}% of model time")


if __name__ == "__main__":
    main()
