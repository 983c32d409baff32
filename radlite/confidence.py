"""A value's raw confidence score: what the answer itself says about how sure it is, before calibration.

Two sources, one scale (0..1, higher is surer), turned into a calibrated ``confidence`` by the map its
routing ships (radlite.calibration):

- a **model** value: the joint probability of the tokens that wrote the value's field in the answer
  (the product of each sampled token's probability under the model's full softmax, captured by the
  decoder: radlite.inference.batch ``Completion.logprobs``). A field the answer does not spell out
  verbatim gets the answer's mean token probability;
- a **rule** value: the class of the cue the value rests on (``CUE_SCORES``): a cue that states it
  (a negation, an affirmation, a stated category the formula agrees with), the words plainly with no
  cue, a hedge or a disagreement, or an inference (nothing in the report points at it).

Impressions carry none: a generated impression is graded (ROUGE-L), never right or wrong, so there
is no probability of being right to calibrate.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from radlite.evidence import Evidence
from radlite.text.assertion import assert_mention

#: Raw score of a rule value by its cue class, ordered by how much of the value the report states.
CUE_SCORES = {"inferred": 0.25, "hedged": 0.5, "plain": 0.75, "stated": 1.0}
#: Stated vs computed agreement (rads, staging rules rows) -> cue class.
AGREEMENT_CUES = {"agree": "stated", "stated_only": "plain", "computed_only": "inferred", "disagree": "hedged"}
#: Per task table, the row columns that hold the value an answer writes (in the order it writes them).
VALUE_FIELDS = {"rads": ("category",), "staging": ("n_stage", "m_stage"), "entities": ("text", "model_label"),
                "temporal_changes": ("finding", "change"), "abnormalities": ("finding", "status"),
                "nli": ("label",), "qa_answers": ("answer",)}


def cue_class(row: dict, evidence: Evidence | None, text: str) -> str:
    """The cue class of a rule value: its stated/computed agreement where the row has one, else how the
    assertion engine reads the words it points at."""
    if row.get("agreement") in AGREEMENT_CUES:
        return AGREEMENT_CUES[row["agreement"]]
    if evidence is None or not evidence.grounded:
        return "inferred"
    assertion = assert_mention(text, evidence.start, evidence.end)
    if assertion.status == "uncertain" or assertion.hypothetical:
        return "hedged"
    return "plain" if assertion.rule == "default" else "stated"


def rule_score(table: str, row: dict, evidence: Evidence | None, text: str) -> float | None:
    """The raw score of a rule row's value (None: a row with no value, or a table whose values carry none)."""
    if not any(row.get(f) not in (None, "") for f in VALUE_FIELDS.get(table, ())):
        return None
    return CUE_SCORES[cue_class(row, evidence, text)]


class TokenScores:
    """An answer's sampled tokens: their log-probabilities and where each ends in the answer's text."""

    def __init__(self, text: str, logprobs: Sequence[float], token_ends: Sequence[int]):
        self.text, self.logprobs, self.ends = text, list(logprobs), list(token_ends)
        self._bytes = [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]
        self.cursor = 0  # where the next row's fields are looked for (rows come in answer order)

    def mean_probability(self) -> float | None:
        """The answer's mean token probability (geometric), over the tokens inside its text."""
        inside = [lp for lp, end in zip(self.logprobs, self.ends, strict=True) if end <= self._bytes[-1]]
        inside = inside or self.logprobs
        return math.exp(sum(inside) / len(inside)) if inside else None

    def span_probability(self, start: int, end: int) -> float:
        """Joint probability of the tokens overlapping characters [start, end) of the text."""
        lo, hi = self._bytes[start], self._bytes[end]
        first = bisect.bisect_right(self.ends, lo)  # the first token ending after lo
        total = 0.0
        for index in range(first, len(self.ends)):
            if index > 0 and self.ends[index - 1] >= hi:
                break
            total += self.logprobs[index]
        return math.exp(total)

    def value_probability(self, values: Sequence[str]) -> float | None:
        """Joint probability of the tokens writing ``values`` (found in order from the cursor, which moves
        past them); the answer's mean token probability when one of them is not written verbatim."""
        cursor, spans = self.cursor, []
        for value in values:
            at = self.text.find(value, cursor) if value else -1
            if at < 0:
                return self.mean_probability()
            spans.append((at, at + len(value)))
            cursor = at + len(value)
        self.cursor = cursor
        return math.prod(self.span_probability(s, e) for s, e in spans)


def model_score(table: str, row: dict, tokens: TokenScores | None) -> float | None:
    """The raw score of a model row's value (None: no token probabilities, or no confidence for the table)."""
    if tokens is None or table not in VALUE_FIELDS or not tokens.logprobs:
        return None
    values = [str(row[f]) for f in VALUE_FIELDS[table] if row.get(f) not in (None, "")]
    return tokens.value_probability(values) if values else None
