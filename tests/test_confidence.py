"""radlite/confidence.py: a value's raw score, from the tokens that wrote it (a model) or its cue (the rules)."""

import math

import pytest
from conftest import evidence_at

from radlite.confidence import CUE_SCORES, TokenScores, cue_class, model_score, rule_score
from radlite.evidence import Evidence


@pytest.mark.parametrize("text, words, cue", [
    ("FINDINGS: No pneumothorax.", "pneumothorax", "stated"),
    ("FINDINGS: Possible right lower lobe pneumonia.", "pneumonia", "hedged"),
    ("FINDINGS: Cardiomegaly.", "Cardiomegaly", "plain"),
])
def test_a_rule_values_cue_class_is_how_the_assertion_engine_reads_its_words(text, words, cue):
    evidence = evidence_at(text, words)
    assert cue_class({}, evidence, text) == cue
    assert rule_score("abnormalities", {"finding": "x", "status": "y"}, evidence, text) == CUE_SCORES[cue]


def test_a_rule_value_with_nothing_to_point_at_is_inferred_and_agreement_decides_a_category():
    assert cue_class({}, None, "FINDINGS: Clear lungs.") == "inferred"
    assert cue_class({}, Evidence(), "FINDINGS: Clear lungs.") == "inferred"
    assert cue_class({"agreement": "agree"}, None, "") == "stated"
    assert cue_class({"agreement": "disagree"}, None, "") == "hedged"
    assert rule_score("impressions", {"generated": "Normal."}, None, "") is None  # graded, not right or wrong
    assert rule_score("abnormalities", {"finding": None, "status": None}, None, "") is None  # no value


# an answer '[["effusion", "OBS-DP"]]' in six tokens, each with its log-probability and byte end
ANSWER = '[["effusion", "OBS-DP"]]'
PIECES = ['[["', 'effusion', '", "', 'OBS', '-DP', '"]]']
LOGPROBS = [-0.01, -0.5, -0.02, -0.3, -0.1, -0.05]


def _tokens() -> TokenScores:
    ends, total = [], 0
    for piece in PIECES:
        total += len(piece.encode())
        ends.append(total)
    return TokenScores(ANSWER, LOGPROBS, ends)


def test_a_model_values_score_is_the_joint_probability_of_the_tokens_that_wrote_its_fields():
    row = {"text": "effusion", "model_label": "OBS-DP"}
    assert model_score("entities", row, _tokens()) == pytest.approx(math.exp(-0.5 - 0.3 - 0.1))


def test_a_field_not_written_verbatim_gets_the_answers_mean_token_probability():
    row = {"text": "pleural effusion", "model_label": "OBS-DP"}
    assert model_score("entities", row, _tokens()) == pytest.approx(math.exp(sum(LOGPROBS) / len(LOGPROBS)))


def test_rows_are_found_in_answer_order_and_without_token_probabilities_there_is_no_score():
    answer = '["a", "a"]'
    tokens = TokenScores(answer, [-1.0, -0.1, -1.0, -0.2, -1.0], [2, 3, 7, 8, 10])  # '["', 'a', '", "', 'a', '"]'
    assert tokens.value_probability(["a"]) == pytest.approx(math.exp(-0.1))
    assert tokens.value_probability(["a"]) == pytest.approx(math.exp(-0.2))
    assert model_score("nli", {"label": "neutral"}, None) is None
