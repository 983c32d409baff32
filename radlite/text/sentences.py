"""Where a sentence ends: the one rule every extractor, the timeline and the RADS systems use.

A sentence ends at . ; ? or ! followed by a space or the end of the text, never at a decimal point
("2.0 cm") nor after an abbreviation ("approx. 2 cm", "Dr. X"); at a blank line; and at a line break
before a numbered or bulleted item or a header. Texts written one statement per line (a RADS
block, a staging line) also end a sentence at every line break: ``sentence_bounds(..., lines=True)``.
An impression read as a list of statements (the NLI hypotheses) ends one at every line break and
before an inline item number ("1. ... 2. ..."), but not at a semicolon: ``split_sentences(..., "items")``.
"""

from __future__ import annotations

import re

#: Words whose abbreviation ends in a period that does not end a sentence ("approx. 2.0 cm", "Dr. X").
ABBREVIATIONS = ("vs", "e.g", "i.e", "dr", "approx")
_NOT_ABBREVIATED = "".join(rf"(?<!\b{re.escape(a)})" for a in ABBREVIATIONS)
#: The one rule for a punctuation mark that ends a sentence: . ; ? ! followed by space or the end, and
#: not after an abbreviation; a decimal point ("2.0 cm", "1.5") is never one. Used with re.I.
SENTENCE_PUNCTUATION = _NOT_ABBREVIATED + r"[.;?!](?=\s|$)"
#: A sentence ends at SENTENCE_PUNCTUATION, at a blank line, or at a line break before a numbered or
#: bulleted item or a header.
_SENTENCE_END = re.compile(SENTENCE_PUNCTUATION + r"|\n\s*\n|"
                           r"\n(?=\s*(?:\d+[.)]\s|[-*\u2022]\s|[A-Z][A-Z /&]{2,}:))", re.I)
#: The same punctuation, or any line break.
_SENTENCE_OR_LINE_END = re.compile(SENTENCE_PUNCTUATION + r"|\n", re.I)
#: A statement of an impression list ends after . ! ? and the space after it (a semicolon does not end
#: one), at line breaks, and before an item number.
_ITEM_END = re.compile(r"(?<=[.!?])" + "".join(rf"(?<!\b{re.escape(a)}\.)" for a in ABBREVIATIONS) +
                       r"\s+|\n+|(?:^|\s)\d+\.\s", re.I)
#: The sentence rules by name: prose (the default), lines (also every line break), items (a list).
RULES = {"prose": _SENTENCE_END, "lines": _SENTENCE_OR_LINE_END, "items": _ITEM_END}


def sentence_bounds(text: str, start: int, end: int, *, lines: bool = False) -> tuple[int, int]:
    """The sentence holding text[start:end] as (first offset, end offset); with ``lines``, the sentence
    or the line, whichever is shorter."""
    pattern = RULES["lines" if lines else "prose"]
    left = 0
    for m in pattern.finditer(text, 0, start):
        left = m.end()
    m = pattern.search(text, end)
    return left, m.start() if m else len(text)


def split_sentences(text: str, rule: str = "prose") -> list[str]:
    """The stripped, non-empty sentences of ``text`` under one of the RULES."""
    return [part.strip() for part in RULES[rule].split(text) if part and part.strip()]
