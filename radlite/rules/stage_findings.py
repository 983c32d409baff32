"""N0 vs N+ and M0 vs M1 computed from what a report states about nodes and metastases.

A report that states no TNM stage still says whether regional nodes are abnormal ("enlarged right
hilar lymph node", "no lymphadenopathy") and whether there is distant disease ("hepatic
metastases", "no evidence of distant metastasis"). Each node or metastasis mention of the finding
sections gets its assertion from the one engine (radlite.text.assertion); then:

- **N+**: a node mention asserted present with a pathologic word (enlarged, suspicious, metastatic,
  necrotic, FDG-avid, lymphadenopathy, ...); **N0**: node mentions asserted absent, or described as
  normal (not enlarged, normal in size, subcentimeter, unremarkable), and none N+;
- **M1**: a distant metastasis asserted present (a metastatic *node* is N+, not M1); **M0**: every
  metastasis mention asserted absent;
- otherwise (only uncertain or historical statements, or nothing said) the stage is left open,
  with the reason.

The finer N category (N1/N2/N3) depends on the primary site's TNM table (counts, stations, sides):
radlite.rules.n_category computes it from the node mentions this module calls N+ and N0; here it is
left open. Every computed value keeps the sentence it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.text.assertion import Assertion, assert_mention
from radlite.text.sentences import sentence_bounds
from radlite.text.spans import finding_spans

_NODE = re.compile(r"\b(?:lymph\s*nodes?|nodes?|nodal|lymphadenopath\w*|adenopath\w*)\b", re.I)
_PATHOLOGIC = re.compile(r"\b(?:enlarg\w*|suspicious|metasta\w*|patholog\w*|necrotic|bulky|conglomerat\w*|"
                         r"abnormal|fdg[- ]avid|hypermetabolic|avid|lymphadenopath\w*|adenopath\w*|malignant|"
                         r"infiltrat\w*|rounded|matted|involved|positive|cystic)\b", re.I)
_NORMAL_NODE = re.compile(r"\b(?:normal(?:\s+in)?\s+size|normal[- ]sized|not\s+(?:pathologically\s+)?enlarged|"
                          r"subcentimeter|sub-centimeter|unremarkable|within\s+normal\s+limits|non-?enlarged|"
                          r"not\s+pathologic\w*|no\s+pathologic\w*|benign[- ]appearing|reactive)\b", re.I)
#: "Two suspicious mesorectal lymph nodes": suspicious as the node's own adjective is the clinical call
#: of an involved node (as "nodes suspicious for metastasis" is), not a hedge on whether nodes are there.
_ATTRIBUTIVE = re.compile(r"\s*(?:[\w-]+\s+){0,3}")
_METASTASIS = re.compile(r"\b(?:metasta\w*|carcinomatosis|distant\s+(?:disease|spread))\b", re.I)
#: "metastatic lymph node", "nodal metastasis": regional, so N+ and not M1.
_REGIONAL_BEFORE = re.compile(r"\b(?:nodal|node|nodes|lymph)\s+(?:\w+\s+)?$", re.I)
_REGIONAL_AFTER = re.compile(r"^\s*(?:\w+\s+){0,2}?(?:lymph\s*nodes?|nodes?|adenopathy|lymphadenopathy)\b", re.I)


@dataclass(frozen=True)
class ComputedStage:
    """A stage computed from stated findings: ``value`` N0/N+ or M0/M1, or None (left open);
    ``evidence`` the sentence it comes from; ``reason`` what decided it or why it is open."""

    value: str | None
    evidence: Evidence
    reason: str


def _mentions(report: Report, pattern: re.Pattern) -> list[tuple[int, int]]:
    text = report.text
    return [(m.start(), m.end()) for s, e in finding_spans(report) for m in pattern.finditer(text, s, e)]


def _sentence_evidence(text: str, start: int, end: int) -> Evidence:
    """The evidence of a computed stage: the mention's sentence (the one rule), without its leading space."""
    left, right = sentence_bounds(text, start, end)
    while left < right and text[left].isspace():
        left += 1
    return Evidence(left, right)


def _clause_words(text: str, start: int, end: int) -> str:
    left, right = sentence_bounds(text, start, end)
    return text[left:right]


def computed_n(report: Report) -> ComputedStage:
    """N0 or N+ from what the report states about regional nodes (see the module docstring)."""
    return n_from_mentions(report.text, _mentions(report, _NODE))


def computed_m(report: Report) -> ComputedStage:
    """M0 or M1 from what the report states about distant metastasis (see the module docstring)."""
    return m_from_mentions(report.text, _mentions(report, _METASTASIS))


def stage_within(text: str, start: int, end: int, letter: str) -> ComputedStage:
    """N0/N+ (``letter`` N) or M0/M1 (M) from the mentions inside text[start:end] alone: what a
    value's own evidence says."""
    if letter == "N":
        return n_from_mentions(text, [(m.start(), m.end()) for m in _NODE.finditer(text, start, end)])
    return m_from_mentions(text, [(m.start(), m.end()) for m in _METASTASIS.finditer(text, start, end)])


def _suspicious_node(text: str, assertion: Assertion, start: int) -> bool:
    """The hedge is an attributive "suspicious" of the node itself ("two suspicious mesorectal nodes")."""
    if assertion.status != "uncertain" or assertion.cue_start is None or assertion.cue_end > start:
        return False
    return text[assertion.cue_start:assertion.cue_end].lower() == "suspicious" and \
        _ATTRIBUTIVE.fullmatch(text, assertion.cue_end, start) is not None


def n_from_mentions(text: str, mentions: list[tuple[int, int]]) -> ComputedStage:
    """N0 or N+ from the given node mentions of ``text``."""
    negative = None
    open_reason = "the report states nothing about lymph nodes"
    for start, end in mentions:
        assertion = assert_mention(text, start, end)
        sentence = _clause_words(text, start, end)
        if _suspicious_node(text, assertion, start):
            assertion = replace(assertion, status="present")
        if assertion.status == "absent":
            negative = negative or (start, end, "lymph nodes stated absent or not enlarged")
        elif assertion.status == "uncertain":
            open_reason = "lymph nodes stated only with uncertainty"
        elif _NORMAL_NODE.search(sentence) and not re.search(r"\b(?:metasta\w*|necrotic|suspicious)\b", sentence,
                                                               re.I):
            negative = negative or (start, end, "lymph nodes described as normal")
        elif _PATHOLOGIC.search(text, start, end) or _PATHOLOGIC.search(sentence):
            if assertion.historical:
                open_reason = "abnormal lymph nodes stated only as history"
                continue
            return ComputedStage("N+", _sentence_evidence(text, start, end), "regional lymph node described as abnormal; "
                                 "the finer N category needs the organ's TNM table (left open)")
    if negative:
        return ComputedStage("N0", _sentence_evidence(text, negative[0], negative[1]), negative[2])
    return ComputedStage(None, Evidence(), open_reason)


def m_from_mentions(text: str, mentions: list[tuple[int, int]]) -> ComputedStage:
    """M0 or M1 from the given metastasis mentions of ``text``."""
    negative = None
    open_reason = "the report states nothing about metastasis"
    for start, end in mentions:
        left, right = sentence_bounds(text, start, end)
        if _REGIONAL_BEFORE.search(text[max(left, start - 30):start]) or _REGIONAL_AFTER.match(text[end:right]):
            continue  # a regional nodal metastasis is N+, not M1
        assertion = assert_mention(text, start, end)
        if assertion.status == "absent":
            negative = negative or (start, end)
        elif assertion.status == "uncertain":
            open_reason = "metastasis stated only with uncertainty"
        elif assertion.historical:
            open_reason = "metastasis stated only as history"
        else:
            return ComputedStage("M1", _sentence_evidence(text, start, end), "distant metastasis stated present")
    if negative:
        return ComputedStage("M0", _sentence_evidence(text, *negative), "distant metastasis stated absent")
    return ComputedStage(None, Evidence(), open_reason)
