"""Site words: which site, side, lesion or primary a stated value is for.

A RADS category ("Right breast: BI-RADS 4B") or a TNM stage ("Primary 2 (rectum) T2N0") is stated for
the site its clause names. Each system brings its own lexicon of site words (radlite.rules.rads.SITES,
radlite.text.tnm.PRIMARY_SITES); where the clause of a statement is, is decided here, once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.evidence import Evidence
from radlite.text.sentences import sentence_bounds
from radlite.text.spans import last_match

#: Side and lung-lobe words by their letter: the site vocabulary the RADS systems, TNM, the primary sites
#: and the timeline share (each system composes its own lexicon of site words from the patterns below).
SIDES = {"R": "right", "L": "left"}
LUNG_LOBES = {"U": "upper", "M": "middle", "L": "lower"}
SIDE_WORDS = "|".join(SIDES.values())
LOBE_WORDS = "|".join(LUNG_LOBES.values())
#: A side ("right"), a lung lobe ("upper lobe"), a lobe abbreviated ("RUL", "LLL"), as regex fragments.
SIDE = rf"(?:{SIDE_WORDS})"
LUNG_LOBE = rf"(?:{LOBE_WORDS})\s+lobe"
LOBE_ABBREVIATION = rf"\b(?:{'|'.join(SIDES)})(?:{'|'.join(LUNG_LOBES)})L\b"
#: What separates two statements of one sentence ("NI-RADS 1 in the neck, NI-RADS 3 at the primary site").
SEPARATOR = re.compile(r",|;|\band\b|\bwhile\b", re.I)
#: Words that tie a statement to the site after it ("cT1b N0 M0 for the right upper lobe adenocarcinoma").
_ATTACHED = re.compile(r"\s*(?:for|of|in|at)\s+(?:the\s+)?", re.I)


class Site(NamedTuple):
    """Site words in lower case with single spaces ("primary 1 sigmoid colon"), and their span."""

    words: str
    start: int
    end: int


def site_words(text: str, lexicon: re.Pattern, start: int, end: int) -> Site | None:
    """The site words of ``lexicon`` in text[start:end], joined in text order (each once)."""
    found = list(lexicon.finditer(text, start, end))
    if not found:
        return None
    words = " ".join(dict.fromkeys(" ".join(m.group().lower().split()) for m in found))
    return Site(words, found[0].start(), found[-1].end())


def with_site(start: int, end: int, site: Site | None) -> Evidence:
    """A statement's span widened to hold its site words ("Primary site NI-RADS 2a")."""
    if site is None:
        return Evidence(start, end)
    return Evidence(min(start, site.start), max(end, site.end))


def statement_sites(text: str, statements: list[tuple[int, int]], lexicon: re.Pattern) -> list[Site | None]:
    """The site of each statement (``(start, end)`` spans in text order): the site words before it, from
    the sentence start or the separator after the previous statement of its sentence; else the words
    after it, to the sentence end or the separator before the next statement. Words after it that it
    is tied to ("... for the right upper lobe") win over words before it ("Two lung primaries: ...")."""
    out = []
    for i, (start, end) in enumerate(statements):
        left, right = sentence_bounds(text, start, end)
        lead = left
        if i and statements[i - 1][1] > left:
            cut = last_match(SEPARATOR, text, statements[i - 1][1], start)
            lead = cut.end() if cut else statements[i - 1][1]
        trail = right
        if i + 1 < len(statements) and statements[i + 1][0] < right:
            cut = last_match(SEPARATOR, text, end, statements[i + 1][0])
            trail = cut.start() if cut else end
        after = site_words(text, lexicon, end, trail)
        tie = _ATTACHED.match(text, end)
        if after is not None and tie is not None and tie.end() == after.start:
            out.append(after)
        else:
            out.append(site_words(text, lexicon, lead, start) or after)
    return out
