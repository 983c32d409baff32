"""Where computed-RADS features are read: finding text, asserted mentions and lesion blocks (site words:
radlite.text.sites).

Whether a mention is asserted ("no nodule" is not a nodule, "no punctate echogenic foci" adds no
points) is the assertion engine's answer (radlite.text.assertion), the one used by every rule.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.text.assertion import assert_mention
from radlite.text.sentences import sentence_bounds
from radlite.text.spans import finding_spans, last_match


def feature_spans(report: Report) -> list[tuple[int, int]]:
    """The text lesions are described in: the FINDINGS section(s), or every finding section when the
    report has none (an impression only restates the findings, and would count each lesion twice)."""
    return finding_spans(report, ("findings",)) or finding_spans(report)


#: A structured template's answer right after the feature's name ("Washout: no", "APHE: yes").
_TEMPLATE_ANSWER = re.compile(r"\s*[:=\-]\s*(?:(?P<yes>yes|present|positive)|(?P<no>no|absent|none|negative|not "
                              r"(?:seen|present|identified)))\b", re.I)


def _template_answer(text: str, end: int) -> bool | None:
    m = _TEMPLATE_ANSWER.match(text, end)
    return None if m is None else bool(m.group("yes"))


def asserted(text: str, start: int, end: int) -> bool:
    """The report states text[start:end] as present now (not negated, hedged or asked; a template's
    "Washout: no" is not)."""
    answer = _template_answer(text, end)
    return answer if answer is not None else assert_mention(text, start, end).status == "present"


def absent(text: str, start: int, end: int) -> bool:
    """The report states text[start:end] is not there ("no pulmonary nodules", "Capsule: absent")."""
    answer = _template_answer(text, end)
    return (not answer) if answer is not None else assert_mention(text, start, end).status == "absent"


def first_asserted(pattern: re.Pattern, text: str, start: int, end: int) -> re.Match | None:
    """The first match of ``pattern`` in text[start:end] that the report asserts."""
    return next((m for m in pattern.finditer(text, start, end) if asserted(text, m.start(), m.end())), None)


def stated(pattern: re.Pattern, text: str, start: int, end: int) -> bool | None:
    """True when text[start:end] asserts a mention of ``pattern``, False when it only denies one ("no
    washout"), None when it says nothing of it (an unstated feature, which a formula must not guess)."""
    found = list(pattern.finditer(text, start, end))
    if any(asserted(text, m.start(), m.end()) for m in found):
        return True
    return False if any(absent(text, m.start(), m.end()) for m in found) else None


def sentences_with(pattern: re.Pattern, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentences of ``spans`` that mention ``pattern`` (each once, in text order)."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        for m in pattern.finditer(text, start, end):
            left, right = sentence_bounds(text, m.start(), m.end())
            bounds = (max(left, start), min(right, end))
            if bounds not in out:
                out.append(bounds)
    return out


def trimmed(text: str, start: int, end: int) -> Evidence:
    """Evidence for text[start:end] without the whitespace and separators around it."""
    while start < end and text[start] in " \n\t,;:":
        start += 1
    while end > start and text[end - 1] in " \n\t":
        end -= 1
    return Evidence(start, end)


class Block(NamedTuple):
    """The text describing one lesion: from where it is introduced to where the next one is."""

    start: int
    end: int
    noun_start: int
    noun_end: int


_LABEL = re.compile(r"^\s*(?:#|no\.?|number)?\s*(?:\d+|[A-H])\b", re.I)
_SPLIT = re.compile(r",|;|\band\b", re.I)
#: Words that name what an earlier lesion of the sentence is, rather than introduce another.
_NAMES_PREVIOUS = re.compile(r"\b(?:consistent with|compatible with|in keeping with|suggestive of|typical of|"
                             r"representing|likely|probably|most likely|diagnostic of|characteristic of)\b", re.I)


def lesion_blocks(text: str, noun: re.Pattern, spans: list[tuple[int, int]], needs: re.Pattern) -> list[Block]:
    """One block per lesion: an asserted ``noun`` mention that introduces a lesion (its sentence matches
    ``needs``, e.g. holds a size, or the noun is numbered: "Nodule 2:") starts a block; the block runs
    to the next such mention (later sentences about "the nodule" belong to it). A second mention that
    names the sentence's lesion ("..., consistent with a haemorrhagic cyst") starts none."""
    blocks: list[Block] = []
    for span_start, span_end in spans:
        anchors = []
        for m in noun.finditer(text, span_start, span_end):
            left, right = sentence_bounds(text, m.start(), m.end())
            labelled = bool(_LABEL.match(text, m.end()))
            if anchors and anchors[-1][0] == max(left, span_start) and _NAMES_PREVIOUS.search(
                    text, anchors[-1][1].end(), m.start()):
                continue  # "a 4 cm cyst ..., consistent with a haemorrhagic cyst": the same lesion, named
            if (labelled or needs.search(text, left, right)) and asserted(text, m.start(), m.end()):
                anchors.append((max(left, span_start), m))
        starts = []
        for i, (left, m) in enumerate(anchors):
            if i and anchors[i - 1][0] == left:  # a second lesion in the same sentence: split at and / comma
                previous = anchors[i - 1][1]
                cut = last_match(_SPLIT, text, previous.end(), m.start())
                left = cut.start() if cut else previous.end()
            starts.append(left)
        for i, (_, m) in enumerate(anchors):
            end = starts[i + 1] if i + 1 < len(anchors) else span_end
            blocks.append(Block(starts[i], end, m.start(), m.end()))
    return blocks
