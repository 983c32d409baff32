"""Report-span grammars, checked with llama.cpp's own grammar engine over the embedded model's vocabulary:
every span of a (hand-written, synthetic) report is accepted, in any letter case; every other
string (words the report never says, word fragments, runs across a line break, over-long runs) is not;
and the task grammars that splice spans in still accept only their JSON answers."""

import ctypes
import itertools
import json
import math
import re

import llama_cpp
import pytest
from llama_cpp import Llama

from radlite.routing import embedded_model_path
from radlite.tasks.base import pairs_grammar
from radlite.tasks.ner import ANSWER_SCHEMA
from radlite.tasks.qa import NOT_STATED, quote_grammar
from radlite.tasks.report_span_grammar import is_span, span_rules

#: Synthetic report: a quote to escape in JSON, a non-ASCII sign, a double space, two lines.
TEXT = 'FINDINGS: Small "loculated" effusion, 5 × 3 mm.\nIMPRESSION: No  pneumothorax.'
MAX_CHARS = 24


@pytest.fixture(scope="module")
def vocab_model():
    return Llama(model_path=embedded_model_path(), vocab_only=True, verbose=False)


def accepts(llm: Llama, grammar: str, text: str) -> bool:
    """Whether llama.cpp's grammar sampler lets the model write exactly ``text`` (its tokens, then end)."""
    sampler = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, grammar.encode(), b"root")
    assert sampler, grammar
    one = llama_cpp.llama_token_data()
    candidates = llama_cpp.llama_token_data_array(ctypes.pointer(one), 1, -1, False)
    try:
        for token in [*llm.tokenize(text.encode(), add_bos=False, special=False), llm.token_eos()]:
            one.id, one.logit, one.p = token, 0.0, 0.0
            candidates.selected, candidates.size = -1, 1
            llama_cpp.llama_sampler_apply(sampler, ctypes.byref(candidates))
            if one.logit == -math.inf:
                return False
            if token == llm.token_eos():
                return True
            llama_cpp.llama_sampler_accept(sampler, token)
    finally:
        llama_cpp.llama_sampler_free(sampler)
    return False


def spans_by_hand(text: str, max_chars: int) -> set[str]:
    """Every run of words and marks within a line, as written, up to ``max_chars`` (case-folded)."""
    found = set()
    for line in text.split("\n"):
        tokens = list(re.finditer(r"\w+|[^\w\s]", line))
        for a, b in itertools.combinations_with_replacement(range(len(tokens)), 2):
            span = line[tokens[a].start():tokens[b].end()]
            if len(span) <= max_chars:
                found.add(span.lower())
    return found


def test_the_grammar_accepts_exactly_the_spans_of_the_report(vocab_model):
    """Every substring of the report (and its upper-case form): accepted by llama.cpp iff it is a span."""
    grammar = "root ::= span\n" + span_rules((TEXT,), MAX_CHARS)
    spans = spans_by_hand(TEXT, MAX_CHARS)
    substrings = {TEXT[i:j] for i in range(len(TEXT)) for j in range(i + 1, min(len(TEXT), i + MAX_CHARS + 3) + 1)}
    assert {"small \"loculated\"", "5 × 3 mm.", "no  pneumothorax.", "findings:"} <= spans
    for text in sorted(substrings):
        expected = text.lower() in spans
        assert is_span(text, (TEXT,), MAX_CHARS) == expected, text
        assert accepts(vocab_model, grammar, text) == expected, text
    for span in sorted(spans):
        assert accepts(vocab_model, grammar, span.upper()), span


@pytest.mark.parametrize("text", ["cancer", "neumothorax", "pneumothora", "effusion, 5 × 3 mm.\nIMPRESSION", "",
                                  " Small", "No pneumothorax", 'FINDINGS: Small "loculated"'])
def test_out_of_report_text_is_rejected(vocab_model, text):
    """An absent word, word fragments, a run across a line break, an empty span, a leading space,
    other spacing than the report's and a run over the length limit."""
    assert not accepts(vocab_model, "root ::= span\n" + span_rules((TEXT,), MAX_CHARS), text)
    assert not is_span(text, (TEXT,), MAX_CHARS)


def test_pairs_answers_quote_the_report_as_json_strings(vocab_model):
    """NER's JSON answer with the report's spans: a span with a quote is written escaped and reads back
    as the report's words; a pair whose text is not in the report, and unescaped quotes, are refused."""
    grammar = pairs_grammar(ANSWER_SCHEMA, MAX_CHARS, (TEXT,))
    answer = json.dumps([['Small "loculated" effusion', "OBS-DP"], ["pneumothorax", "OBS-DA"]])
    assert len('Small "loculated" effusion') > MAX_CHARS
    assert not accepts(vocab_model, grammar, answer)
    answer = json.dumps([['"loculated" effusion', "OBS-DP"], ["pneumothorax", "OBS-DA"]])
    assert accepts(vocab_model, grammar, answer)
    assert json.loads(answer)[0][0] in TEXT
    assert accepts(vocab_model, grammar, "[]")
    assert not accepts(vocab_model, grammar, '[["cancer", "OBS-DP"]]')
    assert not accepts(vocab_model, grammar, '[[""loculated"", "OBS-DP"]]')
    assert not accepts(vocab_model, grammar, '[["pneumothorax", "MASS"]]')


def test_a_report_with_nothing_to_quote_allows_no_quote(vocab_model):
    """No span (no words in the sections a field may copy): an empty list, or ``not stated``."""
    assert accepts(vocab_model, pairs_grammar(ANSWER_SCHEMA, MAX_CHARS, ("\n \n",)), "[]")
    assert not accepts(vocab_model, pairs_grammar(ANSWER_SCHEMA, MAX_CHARS, ()), '[["x", "OBS-DP"]]')
    assert accepts(vocab_model, quote_grammar(()), NOT_STATED)
    assert not accepts(vocab_model, quote_grammar(()), "x")
    quotes = quote_grammar((TEXT,))
    assert accepts(vocab_model, quotes, NOT_STATED) and accepts(vocab_model, quotes, "No  pneumothorax.")
