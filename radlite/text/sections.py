"""Split a free-text radiology report into its canonical sections.

Handles MIMIC-CXR-style headers (``FINDINGS:``), headers ended by dashes (``FINDINGS -``,
``IMPRESSION--``, ``OBSERVATIONS:-``), headers alone on their own line (also in a ``***`` banner),
mixed case, upper-case headers in the middle of a line, sign-off lines ("Electronically signed by"),
which close the section above them, and reports with no headers at all (their whole text is treated
as the findings narrative). Organ labels of a template ("Lungs: clear.") are not headers.

An ADDENDUM belongs to the impression: its text is appended to the impression's, after it, so the
rules that read the impression see a revision written after the signature (docs/inputs.md).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

#: Header spellings (lower case) mapped to the canonical section they open.
HEADER_ALIASES: dict[str, str] = {
    "findings": "findings",
    "finding": "findings",
    "findings and impression": "findings",
    "report": "findings",
    "body": "findings",
    "observations": "findings",
    "interpretation": "findings",
    "result": "findings",
    "results": "findings",
    "impression": "impression",
    "impressions": "impression",
    "diagnostic impression": "impression",
    "conclusion": "impression",
    "conclusions": "impression",
    "opinion": "impression",
    "summary": "impression",
    "comment": "impression",
    "comments": "impression",
    "assessment": "impression",
    "evaluation": "impression",
    "addendum": "impression",
    "comparison": "comparison",
    "comparisons": "comparison",
    "prior": "comparison",
    "prior studies": "comparison",
    "indication": "indication",
    "indications": "indication",
    "history": "indication",
    "clinical history": "indication",
    "clinical information": "indication",
    "clinical indication": "indication",
    "reason for exam": "indication",
    "reason for examination": "indication",
    "reason for study": "indication",
    "reason for referral": "indication",
    "clinical details": "indication",
    "clinical notes": "indication",
    "clinical data": "indication",
    "clinical question": "indication",
    "technique": "technique",
    "procedure": "technique",
    "protocol": "technique",
    "examination": "examination",
    "exam": "examination",
    "study": "examination",
    "type of examination": "examination",
    "notification": "other",
    "recommendation": "other",
    "recommendations": "other",
    "wet read": "other",
    "final report": "other",
}

SECTION_NAMES = ("findings", "impression", "comparison", "indication", "technique", "examination", "other")



def _alternation(names) -> str:
    """Regex alternation of header names, longest first, any run of spaces between words."""
    return "|".join(sorted((r"\s+".join(map(re.escape, n.split())) for n in names), key=len, reverse=True))


#: Lines that sign a report off; each closes the section above it and opens "other".
SIGN_OFFS = ("electronically signed by", "signed by", "dictated by", "transcribed by", "verified by",
             "authorised by", "authorized by")

_ALT = _alternation(HEADER_ALIASES)
# What ends a header: a colon (then maybe a dash, "OBSERVATIONS:-"), or dashes before a space
# ("FINDINGS -", "IMPRESSION--"); a number may come first ("ADDENDUM 1:").
_END = r"[ \t]*(?:#?\d{1,2}[ \t]*)?(?::[-\u2013\u2014]*|[-\u2013\u2014]+(?=\s))"
# A header at the start of a line, any case, followed by its end mark.
_LINE_COLON = re.compile(rf"(?im)^[ \t]*(?P<h>{_ALT}){_END}")
# A header alone on its own line, any case, no colon, maybe in a banner ("*** ADDENDUM ***").
_LINE_ALONE = re.compile(rf"(?im)^[ \t*=#_-]*(?P<h>{_ALT})[ \t*=#_:-]*\r?$")
#: Headers only at the start of a line: mid-line "ASSESSMENT: Category 4" is a BI-RADS final
#: assessment inside the impression, not a new section.
LINE_START_ONLY = frozenset({"assessment"})
# An upper-case header with a colon in the middle of a line ("... IMPRESSION: ..."), not the end
# of a label such as "DATE OF EXAM:".
_INLINE_ALT = _alternation(h.upper() for h in HEADER_ALIASES if h not in LINE_START_ONLY)
_INLINE_UPPER = re.compile(rf"(?<=[\s.;])(?<!OF )(?P<h>{_INLINE_ALT})[ \t]*:")
# A sign-off at the start of a line.
_SIGN_OFF = re.compile(rf"(?im)^[ \t]*(?P<h>{_alternation(SIGN_OFFS)})\b[ \t]*:?")


class SectionTexts(BaseModel):
    """The canonical sections' texts; empty string where absent. A Report carries them too."""

    model_config = ConfigDict(frozen=True)

    findings: str = ""
    impression: str = ""
    comparison: str = ""
    indication: str = ""
    technique: str = ""
    examination: str = ""
    other: str = ""

    def section_texts(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SECTION_NAMES}


class Sections(SectionTexts):
    """What the parser found: the sections, and whether any header was seen at all."""

    has_headers: bool = False


def _headers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, header words in lower case) of every header, in text order, non-overlapping."""
    spans: dict[int, tuple[int, int, str]] = {}
    for pattern in (_LINE_COLON, _LINE_ALONE, _INLINE_UPPER, _SIGN_OFF):
        for m in pattern.finditer(text):
            start = m.start("h")
            if start not in spans:
                spans[start] = (start, m.end(), " ".join(m.group("h").lower().split()))
    result: list[tuple[int, int, str]] = []
    for span in sorted(spans.values()):
        if result and span[0] < result[-1][1]:
            continue
        result.append(span)
    return result


def _header_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical section) of every header, in text order, non-overlapping."""
    return [(start, end, HEADER_ALIASES.get(key, "other")) for start, end, key in _headers(text)]


def addendum_start(text: str) -> int | None:
    """Where the first ADDENDUM header begins, or None: what follows it revises the signed report."""
    return next((start for start, _, key in _headers(text) if key == "addendum"), None)


def _clean(chunk: str) -> str:
    """A section's text: outer blanks and rules gone, runs of spaces one space, CR LF one newline."""
    return re.sub(r"[ \t]+", " ", chunk.replace("\r\n", "\n").strip().strip("_*").strip())


def parse_sections(text: str) -> Sections:
    """Split ``text`` into canonical sections; repeated sections are joined."""
    spans = _header_spans(text)
    if not spans:
        return Sections(findings=_clean(text), has_headers=False)
    parts: dict[str, list[str]] = {name: [] for name in SECTION_NAMES}
    for i, (_, end, section) in enumerate(spans):
        stop = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        body = _clean(text[end:stop])
        if body:
            parts[section].append(body)
    preamble = _clean(text[: spans[0][0]])
    if preamble:
        # Narrative before the first header is the findings when no findings header exists.
        parts["other" if parts["findings"] else "findings"].insert(0, preamble)
    return Sections(has_headers=True, **{k: "\n".join(v) for k, v in parts.items()})


def section_bodies(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical section) of each section's body in ``text``; the whole text is the
    findings when there is no header, and narrative before the first header counts as findings."""
    spans = _header_spans(text)
    if not spans:
        return [(0, len(text), "findings")]
    bodies = [(0, spans[0][0], "findings")] if text[: spans[0][0]].strip() else []
    for i, (_, end, section) in enumerate(spans):
        stop = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        bodies.append((end, stop, section))
    return bodies


def section_start(text: str, section: str) -> int | None:
    """Character offset where the first header of ``section`` begins, or None."""
    return next((start for start, _, name in _header_spans(text) if name == section), None)
