"""Decoding (RunInference's model step: every model call, a single prompt being a group of one) against an
independent oracle, llama-cpp-python's own ``Llama.create_completion`` on the same tokens and grammar, on
the shipped model routing (embedded-model): the same answers (but for near-ties, checked), a group of
one as inside a big batch, sampled prompts drawn as llama-cpp-python draws them and again with the same
seed, each report's prefix evaluated once, and one failing report failing alone."""

import functools
import os

import llama_cpp
import numpy as np
import pytest
import yaml
from conftest import QUESTIONS, SAMPLE_REPORTS, run_cli
from llama_cpp import Llama, LlamaGrammar

from pipelines.options import TaskOptions
from pipelines.process import ACCEPTED_NEW, RecordProcessor, RecordWork
from pipelines.task_stage import TaskStage
from radlite.inference.batch import BatchDecoder, Request, fewest_prefill_tokens, prefix_tree, tree_tokens
from radlite.inference.engine import LoadedModel, get_model, prompt_tokens
from radlite.inference.runner import plan_calls
from radlite.io.records import IngestLimits
from radlite.io.validate import accepted_reports
from radlite.prompts import Prompt, render_prompt
from radlite.report import build_report
from radlite.routing import ModelEntry, embedded_model_path, load_routing
from radlite.store import OutputStore
from radlite.tasks import TASKS


def _reports_with_model_work(stage: TaskStage, n: int) -> list:
    """``n`` distinct sample reports, each with at least one task the routing sends to a model."""
    picked, seen = [], set()
    for report in accepted_reports([os.path.join(SAMPLE_REPORTS, "*")]):
        if report.text_sha256 in seen:
            continue
        seen.add(report.text_sha256)
        work = _planned(stage, report)
        if work.pending:
            picked.append(report)
        if len(picked) == n:
            break
    return picked


def _stage(routing="embedded-model") -> TaskStage:
    return TaskStage.resolve(TaskOptions(routing=routing, questions=QUESTIONS))


def _planned(stage: TaskStage, report) -> RecordWork:
    processor = RecordProcessor(IngestLimits(), frozenset(), frozenset(), stage, "run-t", None)
    work = RecordWork("src", 0, ACCEPTED_NEW, report=report)
    processor.plan(work)
    return work


@pytest.fixture(scope="module")
def stage():
    return _stage()


@pytest.fixture(scope="module")
def decoded(stage) -> list:
    """(model, prompt, completion) of every prompt six reports sent to a model, decoded together in one
    RunInference batch by the pipeline's record processor."""
    out = []
    original = LoadedModel.generate_groups

    def recording(model, groups):
        results = original(model, groups)
        for prompts, (completions, _) in zip(groups, results, strict=True):
            assert not isinstance(completions, Exception), completions
            out.extend((model, p, c) for p, c in zip(prompts, completions, strict=True))
        return results

    reports = _reports_with_model_work(stage, 6)
    assert len(reports) == 6
    works = [_planned(stage, r) for r in reports]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LoadedModel, "generate_groups", recording)
        RecordProcessor(IngestLimits(), frozenset(), frozenset(), stage, "run-t", None).answer(works)
    assert sum(w.counts.completion_tokens for w in works) > 0
    return out


@functools.cache
def _oracle_llm(path: str, n_ctx: int, threads: int) -> Llama:
    return Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, flash_attn=True,
                 verbose=False)


def oracle_llm(model) -> Llama:
    """llama-cpp-python's own context over the model's weights, with the engine's settings and the
    entry's n_ctx (the engine's own llama-cpp-python context is too small to decode in)."""
    return _oracle_llm(model.base.path, model.base.n_ctx, model.base.threads)


def oracle(model, prompt: Prompt, seed: int = 0) -> str:
    """llama-cpp-python's own answer: ``create_completion`` on the prompt's tokens and grammar, in its own
    context (which the engine never decodes in), evaluated from scratch."""
    assert model.adapters == ()  # the oracle decodes the loaded weights; runtime adapters live in the decoder
    llm = oracle_llm(model)
    llm.reset()
    grammar = LlamaGrammar.from_string(prompt.grammar, verbose=False) if prompt.grammar else None
    out = llm.create_completion(prompt_tokens(llm, prompt), max_tokens=prompt.max_tokens, stop=list(prompt.stop),
                                temperature=prompt.temperature, grammar=grammar, seed=seed)
    return out["choices"][0]["text"]


#: Largest logit margin a difference from the oracle may start from. llama.cpp's CPU kernels give a
#: sequence slightly different logits when it shares a batch with others (measured up to ~0.6 on a
#: logit over the whole vocabulary: another kernel for several tokens than for one, other cache cells),
#: so greedy decoding may part only where its top two choices were about that close.
NEAR_TIE = 0.5


def oracle_margin(model, prompt: Prompt, completion) -> float | None:
    """Replay the completion's tokens in llama-cpp-python's own context, greedy under the prompt's grammar.
    None if greedy decoding there picks every one of them (and ends where it ended); otherwise its logit
    margin, at the first token where they part, of its own pick over the completion's."""
    llm = oracle_llm(model)
    llm.reset()
    llm.eval(prompt_tokens(llm, prompt))
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    if prompt.grammar:
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_grammar(
            llm._model.vocab, prompt.grammar.encode(), b"root"))
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    try:
        for token in [*completion.tokens, None]:
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
            own = llama_cpp.llama_sampler_sample(chain, llm._ctx.ctx, -1)
            if token is None:  # the completion ended (end of generation) here
                return None if llama_cpp.llama_vocab_is_eog(llm._model.vocab, own) else \
                    float(logits[own] - logits[llm.token_eos()])
            if own != token:
                return float(logits[own] - logits[token])
            llm.eval([token])
    finally:
        llama_cpp.llama_sampler_free(chain)
    return None


def test_batched_answers_equal_llama_cpp_pythons_own_but_for_near_ties(decoded):
    """Every prompt of six reports decoded together (greedy) answers as llama-cpp-python's create_completion
    does, except where llama-cpp-python itself was at a near-tie (checked token by token)."""
    differ = 0
    for model, prompt, completion in decoded:
        if completion.text != oracle(model, prompt):
            differ += 1
            margin = oracle_margin(model, prompt, completion)
            assert margin is not None and 0 <= margin < NEAR_TIE, (prompt.prompt_id, margin)
    assert differ < len(decoded) / 3, (differ, len(decoded))  # 4 of 25 on the development machine


def test_a_group_of_one_answers_as_llama_cpp_python_and_as_inside_the_batch(decoded):
    """A prompt decoded alone (a group of one, the single-sequence case) gives llama-cpp-python's answer
    exactly, and the answer it got inside the six reports' batch but for a near-tie."""
    for model, prompt, together in decoded[::3]:
        (alone,), _ = model.generate_groups([[prompt]])[0]
        assert alone.text == oracle(model, prompt), prompt.prompt_id
        if alone.tokens != together.tokens:
            margin = oracle_margin(model, prompt, together)
            assert margin is not None and 0 <= margin < NEAR_TIE, (prompt.prompt_id, margin)


def test_sampled_prompts_decode_in_the_batch_as_llama_cpp_python_draws_them_and_repeat_with_their_seed():
    """Prompts with a temperature (the radlite-paper profile's 0.1, and 1.0) decode through the one batch
    path: a group of one draws what llama-cpp-python's create_completion draws with the same seed (the same
    sampler chain), a batch rerun with the seed gives the same answers, and another seed other answers."""
    entry = ModelEntry(path=embedded_model_path(), threads=2, seed=5)
    model, reseeded = get_model(entry), get_model(entry.model_copy(update={"seed": 6}))
    report = build_report("src", "r1", "EXAMINATION: MAMMO\nFINDINGS: Irregular spiculated mass, 12 mm.\n"
                                       "IMPRESSION: Highly suggestive of malignancy.")
    task = TASKS["rads_assignment"]
    paper = render_prompt("radlite-paper", task, task.instances(report)[0], report)
    free = [Prompt(f"<|im_start|>user\nWrite one sentence about chest radiograph {i}.<|im_end|>\n"
                   "<|im_start|>assistant\n", "free", 32, ("<|im_end|>",), 1.0, None) for i in range(3)]
    prompts = [paper, *free]
    assert paper.temperature == 0.1
    for prompt in prompts:
        (alone,), _ = model.generate_groups([[prompt]])[0]
        assert alone.completion_tokens > 0 and alone.text == oracle(model, prompt, seed=5), prompt.text
    first, again = (model.generate_groups([prompts])[0][0] for _ in range(2))
    assert [c.text for c in first] == [c.text for c in again]
    other = reseeded.generate_groups([prompts])[0][0]
    assert [c.text for c in other[1:]] != [c.text for c in first[1:]]


def test_each_reports_prefix_is_evaluated_once(stage):
    """Prefill tokens llama.cpp evaluated per report (counted by the engine) against the fewest
    possible: every distinct prefix of the report's prompts once (system + report + task tags) on
    each model the report's tasks reach (a prefix evaluated under other weights is another prefix);
    and for the batch, what all its prompts on a model share (the system prompt) once for them all."""
    works = [_planned(stage, r) for r in _reports_with_model_work(stage, 8)]
    minimums, by_model = [], {}
    for work in works:
        minimum = 0
        for key, instances in work.pending.items():
            model = get_model(stage.routing.models[key])
            calls = plan_calls(model, work.report, instances, "r")
            prompts = [tuple(prompt_tokens(model.llm, c.prompt)) for c in calls]
            distinct = len({p[:i] for p in prompts for i in range(1, len(p) + 1)})
            assert tree_tokens(prefix_tree(prompts)) == distinct
            minimum += distinct
            by_model.setdefault(key, []).append(prompts)
        minimums.append(minimum)
    batch_minimum = sum(fewest_prefill_tokens(groups) for groups in by_model.values())
    RecordProcessor(IngestLimits(), frozenset(), frozenset(), stage, "run-t", None).answer(works)
    for work, minimum in zip(works, minimums, strict=True):
        assert work.counts.prefill_tokens <= 1.15 * minimum, (work.report.locator, work.counts.prefill_tokens, minimum)
    evaluated = sum(work.counts.prefill_tokens for work in works)
    assert batch_minimum <= evaluated <= 1.15 * batch_minimum, (evaluated, batch_minimum)
    assert batch_minimum < sum(minimums)  # the system prompt is evaluated once per batch, not per report


def test_a_report_whose_inference_fails_gets_invalid_rows_and_the_others_complete(tmp_path):
    """One report is longer than the model's context: its model rows are valid = false with the error,
    every other report's rows are all there and valid, and the run accounts for every record."""
    routing = load_routing("embedded-model").model_dump(mode="json", exclude={"origin"})
    for entry in routing["models"].values():
        entry["n_ctx"] = 512
    routing_path = tmp_path / "small-context.yaml"
    routing_path.write_text(yaml.safe_dump(routing))
    reports = tmp_path / "reports"
    reports.mkdir()
    findings = " ".join(f"Finding {i}: the right lower lobe nodule measures {i} mm." for i in range(80))
    (reports / "long.txt").write_text(f"EXAMINATION: CHEST XRAY\nFINDINGS: {findings}\nIMPRESSION: Nodules.")
    for i in range(5):
        (reports / f"short{i}.txt").write_text(f"EXAMINATION: CHEST XRAY\nFINDINGS: Lungs clear {i}. Heart normal."
                                               f"\nIMPRESSION: No acute disease {i}.")
    result = run_cli("run", reports, "--routing", routing_path, "--tasks", "radiology_nli,radiology_ner",
                     "--out", tmp_path / "out")
    # committed; the long report's failed model calls are over the default --max-model-error-rate: exit 4
    assert result.exit_code == 4 and "task instances failed in the model" in result.stderr, result.output
    store = OutputStore(str(tmp_path / "out"))
    locators = {r["report_id"]: r["locator"] for r in store.read_table("reports").to_pylist()}
    by_report = {}
    for table in ("nli", "entities"):  # two tasks the routing sends to a model for every report
        for row in store.read_table(table).to_pylist():
            by_report.setdefault(locators[row["report_id"]], []).append((row["valid"], row["error"]))
    assert set(by_report) == {"long.txt"} | {f"short{i}.txt" for i in range(5)}
    assert len(by_report["long.txt"]) == 2
    assert all(not valid and error.startswith("context_overflow") for valid, error in by_report["long.txt"])
    for i in range(5):
        assert all(valid for valid, _ in by_report[f"short{i}.txt"])
        assert len(by_report[f"short{i}.txt"]) >= 2


def test_prefix_tree_evaluates_each_shared_prefix_once():
    prompts = [(1, 2, 3, 4), (1, 2, 3, 5), (1, 2, 6), (7, 8), (1, 2, 3, 4)]
    roots = prefix_tree(prompts)
    assert tree_tokens(roots) == len({p[:i] for p in prompts for i in range(1, len(p) + 1)}) == 8
    first = next(n for n in roots if n.tokens[0] == 1)
    assert first.tokens == (1, 2) and sorted(len(c.tokens) for c in first.children) == [1, 1]
    assert sorted(i for c in first.children for g in [c.ending] + [d.ending for d in c.children] for i in g) == \
        [0, 1, 2, 4]



def test_the_batched_context_is_sized_to_the_work_and_grows_without_changing_answers():
    """Creating a llama.cpp context clears every cache cell (a second per model for the largest
    possible batch), so a run's context holds what its batch needs; a later, larger batch grows it,
    and the answers do not depend on the context's size."""
    entry = next(e for e in load_routing("embedded-model").models.values() if e.traits.loads_files)
    model = get_model(entry.model_copy(update={"adapters": (), "merge": None}))
    llm, n_ctx = model.llm, model.base.n_ctx
    prompts = [tuple(llm.tokenize(f"Radiology report {i}: the lungs are".encode())) for i in range(6)]
    # answers stop at the first full stop; the budget (what a group reserves) is what sizes the context
    small = [[Request(p, 100, stop=(".",))] for p in prompts[:2]]
    large = [[Request(p, 400, stop=(".",)), Request(p + p[-1:], 400, stop=(".",))] for p in prompts]
    growing = BatchDecoder(llm, n_ctx=n_ctx, threads=2)
    full = BatchDecoder(llm, n_ctx=n_ctx, threads=2)
    try:
        growing.run(small)
        assert 0 < growing.kv_cells < growing.max_cells
        before = growing.kv_cells
        grown = growing.run(large)
        assert before < growing.kv_cells < growing.max_cells
        assert growing.kv_cells >= 12 * 400
        full._reserve(full.max_cells)
        answers = full.run(large)
        assert full.kv_cells == full.max_cells
        assert [[c.tokens for c in r] for r, _ in grown] == [[c.tokens for c in r] for r, _ in answers]
        assert all(c.tokens for r, _ in grown for c in r)
    finally:
        growing.close()
        full.close()


def test_a_group_that_cannot_fit_beside_the_shared_root_fails_alone():
    """The run's shared root keeps its cells for the whole run, so a group needing more than the rest
    of the largest context gets an error (it would otherwise wait for cells that never come); the
    other groups are answered."""
    entry = next(e for e in load_routing("embedded-model").models.values() if e.traits.loads_files)
    model = get_model(entry.model_copy(update={"adapters": (), "merge": None}))
    llm, n_ctx = model.llm, model.base.n_ctx
    shared = tuple(llm.tokenize(b"You are a radiology assistant. Read the report and answer."))
    large, small = shared + tuple(llm.tokenize(b" Report one.")), shared + tuple(llm.tokenize(b" Report two."))
    decoder = BatchDecoder(llm, n_ctx=n_ctx, threads=2, kv_cells=1024)
    try:
        # the large group's own tokens + answer budget: within 1,024 cells, but not beside the root
        budget = 1024 - (len(large) - len(shared)) - 2
        outcome = decoder.run([[Request(large, budget)], [Request(small, 4)]])
    finally:
        decoder.close()
    assert isinstance(outcome[0][0], ValueError) and "exceeds the batched context" in str(outcome[0][0])
    assert not isinstance(outcome[1][0], Exception) and outcome[1][0][0].completion_tokens > 0
