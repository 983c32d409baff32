"""The decoder keeps each sampled token's log-probability (radlite.confidence's raw score of a model value):
the same answer as without it, and the log-probabilities llama.cpp's own logits give, replayed token by
token in llama-cpp-python's context (an independent oracle)."""

import llama_cpp
import numpy as np
import pytest
from llama_cpp import Llama
from scipy.special import log_softmax

from radlite.inference.engine import get_model, prompt_tokens
from radlite.prompts import Prompt, render_prompt
from radlite.report import build_report
from radlite.routing import ModelEntry, embedded_model_path
from radlite.tasks import TASKS

REPORT = build_report("src", "r1", "EXAMINATION: CHEST PA AND LATERAL\nFINDINGS: Small left pleural effusion. "
                                   "No pneumothorax. Heart size is normal.\nIMPRESSION: Small left pleural effusion.")


FREE = Prompt("<|im_start|>user\nWrite one sentence about a chest radiograph.<|im_end|>\n<|im_start|>assistant\n",
              "free", 16, ("<|im_end|>",), 0.0, None)


@pytest.fixture(scope="module")
def answered():
    """(model, prompt, completion) of a grammar-constrained task prompt and a free one, each decoded alone."""
    entry = ModelEntry(path=embedded_model_path(), threads=2)
    model, task = get_model(entry), TASKS["radiology_ner"]
    ner = render_prompt(entry.profile, task, task.instances(REPORT)[0], REPORT)
    return [(model, prompt, model.generate_groups([[prompt]])[0][0][0]) for prompt in (ner, FREE)]


def test_each_sampled_token_has_the_log_probability_its_logits_give(answered):
    for model, prompt, done in answered:
        assert done.completion_tokens > 0 and len(done.logprobs) == len(done.tokens) == len(done.token_ends)
        llm = Llama(model_path=model.base.path, n_ctx=model.base.n_ctx, n_threads=2, n_threads_batch=2,
                    flash_attn=True, verbose=False)
        llm.eval(prompt_tokens(llm, prompt))
        expected = []
        for token in done.tokens:
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
            expected.append(float(log_softmax(logits.astype(np.float64))[token]))
            llm.eval([token])
        assert np.allclose(done.logprobs, expected, atol=0.05), (prompt.prompt_id, done.logprobs, expected)
        assert all(lp <= 0 for lp in done.logprobs)
    assert answered[1][2].completion_tokens > 3  # the free prompt writes several tokens


def test_token_ends_cut_the_generated_text_at_each_token(answered):
    for model, _, done in answered:
        pieces = [model.llm.detokenize([t]) for t in done.tokens]
        assert list(done.token_ends) == list(np.cumsum([len(p) for p in pieces]))
        assert b"".join(pieces).decode("utf-8", errors="ignore").startswith(done.text)
