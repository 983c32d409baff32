"""Temporal change cues attached to the finding they modify ("new right effusion", "heart size is stable").

A cue before a finding ("increased opacity in the right base", "interval resolution of the
pneumothorax"), after it ("the heart size is stable", "effusion has resolved") or after it and a comma
("a patchy opacity in the left mid lung, unchanged compared to prior") becomes one change;
"no new ..." is no change at all. Only finding sections are read, and the finding is a phrase of the
report itself, so every change points at its words.
"""

from __future__ import annotations

import re

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.tasks.temporal import Change, TemporalResult
from radlite.text.assertion import assert_mention
from radlite.text.spans import finding_spans

CUES = {
    "new": "new", "newly": "new", "increased": "worsened", "increasing": "worsened", "worse": "worsened",
    "worsened": "worsened", "worsening": "worsened", "enlarging": "worsened",
    "larger": "worsened", "progressed": "worsened", "progression": "worsened", "decreased": "improved",
    "decreasing": "improved", "improved": "improved", "improving": "improved", "smaller": "improved",
    "resolved": "resolved", "resolution": "resolved", "resolving": "improved", "unchanged": "unchanged",
    "stable": "unchanged", "stably": "unchanged", "persistent": "unchanged", "redemonstrated": "unchanged",
}
_CUE = "|".join(sorted(CUES, key=len, reverse=True))
_STOP = r"(?:\s*\b(?:since|compared|from|when|which|and|but|with|on|in comparison|as|given)\b|\s*[.,;:()]|\s*$)"
#: Words a finding never starts with: a preposition or conjunction (the cue's comparison, "stable from
#: prior"), a pronoun or expletive ("There is increased ...", "This is unchanged"), or a word that names
#: no finding ("unchanged appearance", "Patient has stable ...").
_NOT_A_FINDING_WORDS = (r"(?:from|since|compared|to|for|than|and|or|but|with|without|in|on|at|of|as|when|which|"
                        r"there|this|that|these|those|it|its|they|appearance|patient|size(?!\s+of))\b")
_NOT_A_FINDING = re.compile(_NOT_A_FINDING_WORDS, re.I)
_PHRASE = (rf"(?P<finding>(?!{_NOT_A_FINDING_WORDS})"
           r"(?:(?!\b(?:is|are|has|have|was|were|which|that)\b)[A-Za-z][\w'/-]*\s*){1,6}?)")
_BEFORE = re.compile(rf"\b(?:interval\s+|mild(?:ly)?\s+|slight(?:ly)?\s+)?(?P<cue>{_CUE})\b(?:\s+(?:size of|in size of|"
                     rf"in|of))?(?:\s+the)?\s+{_PHRASE}(?={_STOP})", re.I)
_AFTER = re.compile(rf"(?:^|(?<=[.;]\s)|\b(?:the|a)\s+){_PHRASE}\s+(?:(?:which|that)\s+)?(?:is|are|has|have|remains?|"
                    rf"appears?)\s+(?:been\s+|"
                    rf"now\s+|again\s+)?(?P<cue>{_CUE})\b", re.I)
#: A finding, a comma, then its change against the prior ("a patchy opacity in the left mid lung,
#: unchanged compared to prior"): the finding is the clause before the comma, when it has no verb.
_APPOSED = re.compile(rf"(?:^|(?<=[.;:]\s)|(?<=\n))(?:there\s+(?:is|are)\s+)?(?P<finding>(?!{_NOT_A_FINDING_WORDS})"
                      r"(?:(?!\b(?:is|are|has|have|was|were|which|that)\b)[^.,;:\n])+?),\s+"
                      rf"(?:(?:slightly|mildly|now|again)\s+)?(?P<cue>{_CUE})\b(?=\s+(?:compared|from|since|relative|"
                      r"when|in comparison)\b)", re.I | re.M)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
#: A de-identification mask and nothing else ("It is unchanged XXXX"): no finding to name.
_MASKED = re.compile(r"(?:X{2,}\s*)+")
#: "right larger than left", "left worse than right": a comparison of two places, not of two times.
_SIDE_COMPARISON = re.compile(r"\s+than\s+(?!(?:on\s+|in\s+)?(?:the\s+)?(?:prior|previous|before|earlier|last)\b)",
                              re.I)
_NEAR = re.compile(r"^\s*(?:\w+\s+){0,2}$")


def _negated_cue(text: str, start: int, end: int) -> bool:
    """The change cue itself is negated ("no new consolidation"): the assertion engine's negation
    stands at most two words before it."""
    assertion = assert_mention(text, start, end)
    return (assertion.status == "absent" and assertion.cue_end is not None and assertion.cue_end <= start
            and bool(_NEAR.match(text[assertion.cue_end:start])))


def stated_changes(report: Report) -> tuple[TemporalResult, list[Evidence]] | None:
    """The changes the report states, each with the span of its finding; None when it states none."""
    text = report.text
    changes: list[Change] = []
    evidence: list[Evidence] = []
    seen: set[tuple[int, int]] = set()
    for start, end in finding_spans(report, ("findings", "impression")):
        attributive: set[int] = set()  # cues that modify the phrase after them ("is increased opacity")
        for pattern in (_BEFORE, _AFTER, _APPOSED):
            for m in pattern.finditer(text, start, end):
                if pattern is _BEFORE:
                    attributive.add(m.start("cue"))
                elif m.start("cue") in attributive:
                    continue  # the finding is the phrase after the cue, not the subject before it
                raw = m.group("finding")
                finding = _ARTICLE.sub("", raw.strip())
                f_start = m.start("finding") + len(raw) - len(raw.lstrip()) + len(raw.strip()) - len(finding)
                span = (f_start, f_start + len(finding))
                if (not finding or span in seen or _NOT_A_FINDING.match(finding) or _MASKED.fullmatch(finding)
                        or _negated_cue(text, m.start("cue"), m.end("cue"))
                        or _SIDE_COMPARISON.match(text, m.end("cue"))):
                    continue
                seen.add(span)
                changes.append(Change(finding=finding, change=CUES[m.group("cue").lower()]))
                evidence.append(Evidence(*span))
    if not changes:
        return None
    order = sorted(range(len(changes)), key=lambda i: evidence[i].start)
    return TemporalResult(changes=[changes[i] for i in order]), [evidence[i] for i in order]
