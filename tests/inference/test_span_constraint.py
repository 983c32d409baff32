"""Extractive fields can only copy the report: the embedded model, pushed hard toward a word the report
never says (a logit bias on its tokens), writes it when decoded without the span constraint and cannot
when decoded with it; and on sample reports every extractive field the tasks decode is a span."""

import json
import os
from dataclasses import replace

import llama_cpp
import numpy as np
import pytest
from conftest import SAMPLE_REPORTS
from llama_cpp import Llama

from radlite.inference.batch import SAMPLER_CACHE, BatchDecoder, Request
from radlite.inference.engine import get_model, prompt_tokens
from radlite.io.validate import accepted_reports
from radlite.prompts import DEFAULT_PROFILE, render_prompt
from radlite.report import build_report
from radlite.routing import embedded_model_path, load_routing
from radlite.tasks import TASKS
from radlite.tasks.qa import QUOTE_CHARS, Question
from radlite.tasks.report_span_grammar import is_span
from radlite.text.spans import phrase_texts

#: Hand-written (synthetic) report that never says "cancer".
REPORT = build_report("synthetic", "effusion", "FINDINGS: Small left pleural effusion. Heart size is normal.\n"
                                                "IMPRESSION: Small left pleural effusion. No pneumothorax.")
WORD = "cancer"
FOLLOW_UP = Question(id="followup", question="What follow-up does the report recommend?")


class BiasedDecoder(BatchDecoder):
    """The batch decoder with ``bias`` added to the logits of ``tokens`` after every llama_decode: the
    model is pushed toward them at every step, as a strong logit bias would."""

    def __init__(self, llm, tokens: list[int], bias: float, **kwargs):
        super().__init__(llm, **kwargs)
        self.pushed, self.bias = tokens, bias

    def _decode(self, entries):
        super()._decode(entries)
        for index, (_, _, _, wants_logits) in enumerate(entries):
            if wants_logits:
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, index), shape=(self.n_vocab,))
                logits[self.pushed] += self.bias


@pytest.fixture(scope="module")
def llm():
    """The model the shipped model routing (embedded-model) sends NER and QA to (the embedded model with its
    synthetic adapter)."""
    _, entry = load_routing("embedded-model").model_for("radiology_ner")
    return get_model(entry).llm


def _decode(llm, prompts, push: bool) -> list[str]:
    pushed = sorted({t for w in (WORD, " " + WORD) for t in llm.tokenize(w.encode(), add_bos=False)})
    decoder = BiasedDecoder(llm, pushed, 30.0 if push else 0.0, n_ctx=2048, threads=2, n_seq=4)
    try:
        requests = [Request(tuple(prompt_tokens(llm, p)), p.max_tokens, tuple(p.stop), p.grammar) for p in prompts]
        (completions, _), = decoder.run([requests])
    finally:
        decoder.close()
    return [c.text for c in completions]


def _unconstrained(task, instance):
    """The same prompt, decoded under the task's grammar without the report's spans."""
    return replace(render_prompt(DEFAULT_PROFILE, task, instance, REPORT), grammar=task.answer_format(None).grammar)


def test_a_pushed_model_writes_an_absent_word_only_without_the_span_constraint(llm):
    """NER and a free-text QA question, each decoded with and without the report's spans in one batch,
    every token pushed toward "cancer": only the unconstrained answers say it."""
    ner, qa = TASKS["radiology_ner"], TASKS["radiology_qa"]
    ner_instance, = ner.instances(REPORT)
    qa_instance, = qa.instances(REPORT, (FOLLOW_UP,))
    constrained = [render_prompt(DEFAULT_PROFILE, t, i, REPORT) for t, i in ((ner, ner_instance), (qa, qa_instance))]
    free = [_unconstrained(ner, ner_instance), _unconstrained(qa, qa_instance)]
    assert WORD not in REPORT.text.lower() and all("span ::=" in p.grammar for p in constrained)

    free_ner, free_qa, ner_raw, qa_raw = _decode(llm, free + constrained, push=True)
    assert WORD in " ".join(e.text for e in ner.parse(free_ner).entities).lower(), free_ner
    assert WORD in qa.parse(free_qa).answer.lower(), free_qa

    result = ner.parse(ner_raw)
    assert result.entities, ner_raw
    assert all(is_span(e.text, (REPORT.text,), 24) and e.text.lower() in REPORT.text.lower()
               for e in result.entities), ner_raw
    assert all(e.grounded for e in ner.ground(result, ner_instance, REPORT))
    answer = qa.parse(qa_raw)
    assert WORD not in ner_raw.lower() and WORD not in answer.answer.lower()
    assert answer.answer == "not stated" or (is_span(answer.answer, phrase_texts(REPORT), QUOTE_CHARS)
                                             and qa.ground(answer, qa_instance, REPORT)[0].grounded), qa_raw
    json.loads(ner_raw)  # still the task's JSON answer


def _extractive_fields(task, raw: str) -> list[str]:
    result = task.parse(raw)
    if task.name == "radiology_ner":
        return [e.text for e in result.entities]
    if task.name == "temporal_comparison":
        return [c.finding for c in result.changes]
    return [result.answer] if result.answer != "not stated" else []


def test_tasks_on_sample_reports_decode_only_spans_of_their_reports(llm):
    """NER, free-text QA and temporal comparison on three sample reports with a prior and a
    recommendation-free text: every extractive field the model writes is a span of the report and grounded."""
    reports = [r for r in accepted_reports([os.path.join(SAMPLE_REPORTS, "synthetic-reports-folder")])
               if TASKS["temporal_comparison"].skip_reason(r) is None][:3]
    assert len(reports) == 3
    checked = 0
    for report in reports:
        instances = [(TASKS[name], i) for name in ("radiology_ner", "temporal_comparison")
                     for i in TASKS[name].instances(report)]
        instances += [(TASKS["radiology_qa"], i) for i in TASKS["radiology_qa"].instances(report, (FOLLOW_UP,))]
        prompts = [render_prompt(DEFAULT_PROFILE, t, i, report) for t, i in instances]
        for (task, instance), raw in zip(instances, _decode(llm, prompts, push=False), strict=True):
            for text in _extractive_fields(task, raw):
                assert text.strip().lower() in report.text.lower(), (task.name, raw)
                checked += 1
            result = task.parse(raw)
            assert all(e is None or e.grounded for e in task.ground(result, instance, report)), (task.name, raw)
    assert checked > 0


def test_per_report_grammars_do_not_pile_up_in_the_decoder():
    """Each report brings grammars of its own: the decoder keeps at most SAMPLER_CACHE parsed ones (the
    least recently used are freed), while the clones it handed out stay theirs to free."""
    vocab = Llama(model_path=embedded_model_path(), vocab_only=True, verbose=False)
    decoder = BatchDecoder(vocab, n_ctx=64, threads=1, n_seq=1)
    try:
        clones = [decoder._sampler(Request((1,), 1, grammar=f'root ::= "report {i}"'))
                  for i in range(SAMPLER_CACHE + 20)]
        assert len(decoder._samplers) == SAMPLER_CACHE
        for clone in clones:
            llama_cpp.llama_sampler_free(clone)
    finally:
        decoder.close()
