"""Where in a report the rules look: finding sections, sentences, historical statements."""

from __future__ import annotations

import re
from typing import Protocol

from radlite.evidence import Evidence
from radlite.text.assertion import HISTORICAL_STATEMENT
from radlite.text.sections import section_bodies
from radlite.text.sentences import sentence_bounds

#: Sections whose statements are findings (the rest: indication, history, technique, comparison).
FINDING_SECTIONS = ("findings", "impression", "other")
#: Sections a quoted phrase (a temporal finding, a QA answer) is looked for in: the findings and the comparison.
PHRASE_SECTIONS = (*FINDING_SECTIONS, "comparison")


class ReportText(Protocol):
    """What the text helpers read of a report: its text (radlite.report.Report is one). Typed by its
    shape so the text package stays below the report record."""

    text: str




def finding_spans(report: ReportText, sections=FINDING_SECTIONS) -> list[tuple[int, int]]:
    """Character ranges of ``report.text`` whose statements are findings (not indication, history...)."""
    return [(s, e) for s, e, section in section_bodies(report.text) if section in sections]


def impression_span(report: ReportText) -> tuple[int, int] | None:
    spans = finding_spans(report, ("impression",))
    return spans[-1] if spans else None


def is_historical(text: str, start: int, end: int) -> bool:
    """The statement is about the past ("BI-RADS 4 lesion was biopsied previously")."""
    left, right = sentence_bounds(text, start, end, lines=True)
    return bool(HISTORICAL_STATEMENT.search(text[left:right]))


def find_phrase(report: ReportText, phrase: str) -> Evidence:
    """Where ``phrase`` (any case, any spacing) stands in the report's finding sections."""
    words = phrase.split()
    if not words:
        return Evidence()
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.I)
    found = matches_in(report, pattern, finding_spans(report, PHRASE_SECTIONS))
    return Evidence(found[0].start(), found[0].end()) if found else Evidence()


def phrase_texts(report: ReportText) -> tuple[str, ...]:
    """The texts of the sections ``find_phrase`` searches: what a quoted phrase may copy."""
    return tuple(report.text[s:e] for s, e in finding_spans(report, PHRASE_SECTIONS))


def matches_in(report: ReportText, pattern: re.Pattern, spans: list[tuple[int, int]]) -> list[re.Match]:
    """Matches of ``pattern`` inside ``spans`` of the report text, with offsets into the whole text."""
    return [m for s, e in spans for m in pattern.finditer(report.text, s, e)]


def last_match(pattern: re.Pattern, text: str, start: int, end: int) -> re.Match | None:
    """The last match of ``pattern`` in text[start:end]."""
    matches = list(pattern.finditer(text, start, end))
    return matches[-1] if matches else None
