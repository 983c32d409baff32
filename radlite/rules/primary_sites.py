"""Which primary a report is about, and its side: the N definitions differ by primary site.

A site is named with a word of malignancy in the same sentence ("Right floor of mouth squamous cell
carcinoma", "Gastric antral wall thickening ... known gastric adenocarcinoma", "Melanoma of the left
calf"); the site named so most often is the report's primary (ties: the first named). The words of a
stated TNM statement ("left breast", "primary 2 rectum") name a site the same way (site_of_words).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.report import Report
from radlite.text.assertion import assert_mention
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import LOBE_ABBREVIATION, LUNG_LOBE

#: Primary site -> the words that name it. Oropharynx is read with its HPV (p16) status (hpv_status).
SITE_WORDS: dict[str, re.Pattern] = {site: re.compile(pattern, re.I) for site, pattern in {
    "lung": r"\blungs?\b|\bpulmonary\s+(?:mass|carcinoma|malignan\w*|primary|neoplasm|cancer)|\bbronchogenic|"
            rf"\bN?SCLC\b|\b{LUNG_LOBE}|\blingula\w*|{LOBE_ABBREVIATION}",
    "breast": r"\bbreasts?\b",
    "colorectum": r"\bcolon\b|\bcolonic|\bcolorectal|\bsigmoid\b|\bc(?:a)?ec(?:um|al)\b|\brectosigmoid|"
                  r"\brect(?:um|al)\b|\bsplenic\s+flexure|\bhepatic\s+flexure",
    "stomach": r"(?<!left\s)(?<!right\s)\bgastric\b(?!\s+(?:artery|vessels?|nodes?|lymph))|\bstomach|"
               r"\bantr(?:um|al)\b|\blinitis",
    "oesophagus": r"\bo?esophag\w*|\bgastro-?o?esophageal\s+junction|\bGEJ\b",
    "pancreas": r"\bpancrea(?:s|tic)\b",
    "oral cavity": r"\boral\s+(?:cavity|tongue)|(?<!base\sof\s)(?<!base\sof\sthe\s)\btongue\b|"
                   r"\bfloor\s+of\s+(?:the\s+)?mouth|\bbuccal|\bgingiva\w*|\bhard\s+palate|\bretromolar|"
                   r"\balveolar\s+ridge",
    "oropharynx": r"\boropharyn\w*|\btonsil\w*|\bbase\s+of\s+(?:the\s+)?tongue|\bsoft\s+palate|\bvallecul\w*",
    "larynx": r"\blaryn\w*|\b(?:supra|sub)?glottic|\bvocal\s+(?:cord|fold)",
    "hypopharynx": r"\bhypopharyn\w*|\bp[iy]riform|\bpostcricoid",
    "nasopharynx": r"\bnasopharyn\w*",
    "bladder": r"\bbladder\b|\burothelial",
    "kidney": r"\bkidneys?\b|\brenal\s+(?:cell|mass|tumou?r|carcinoma|cancer|neoplasm|lesion)|\bRCC\b|"
              r"\bnephrectomy",
    "prostate": r"\bprostat\w*",
    "melanoma": r"\bmelanoma",
}.items()}
_MALIGNANT = re.compile(r"\b(?:cancer|carcinoma|adenocarcinoma|malignan\w*|tumou?r|neoplas\w*|primary|mass|SCC|"
                        r"squamous|melanoma|lesion|wall\s+thickening|thickening|apple-?core|staging)\b", re.I)
_SIDE_BEFORE = re.compile(r"\b(right|left)\b(?:[\s-]+[a-z]+){0,3}[\s-]+$", re.I)
_SIDE_IN_SENTENCE = re.compile(r"\b(right|left)[- ]sided\b|\b(right|left)\s+side\b", re.I)
_LOBE_SIDE = re.compile(r"\b([RL])[UML]L\b")
_HPV_POSITIVE = re.compile(r"\b(?:p16|HPV)[- ]?(?:positive|\+|associated|related|mediated)|"
                           r"\b(?:positive\s+for\s+(?:p16|HPV))", re.I)


#: In a statement's site words "renal" alone names the kidney ("renal cell carcinoma pT1a N0" -> "renal").
_RENAL = re.compile(r"\brenal\b", re.I)


class Primary(NamedTuple):
    """A primary site ("lung", "oropharynx p16+"), its side (right, left or None) and the span naming it."""

    site: str
    side: str | None
    start: int
    end: int


def _side_at(text: str, start: int, end: int, left: int, right: int) -> str | None:
    lobe = _LOBE_SIDE.match(text, start, end)
    if lobe:
        return "right" if lobe.group(1) == "R" else "left"
    before = _SIDE_BEFORE.search(text[max(left, start - 40):start])
    if before:
        return before.group(1).lower()
    inside = _SIDE_IN_SENTENCE.search(text, left, right)
    return (inside.group(1) or inside.group(2)).lower() if inside else None


def _named(text: str) -> list[tuple[str, re.Match, tuple[int, int]]]:
    """(site, match, sentence) for every site word in a sentence that speaks of a malignancy, not negated."""
    out = []
    for site, pattern in SITE_WORDS.items():
        for m in pattern.finditer(text):
            left, right = sentence_bounds(text, m.start(), m.end())
            if site != "melanoma" and not _MALIGNANT.search(text, left, right):
                continue
            if assert_mention(text, m.start(), m.end()).status == "absent":
                continue
            out.append((site, m, (left, right)))
    return out


def _with_hpv(site: str, text: str) -> str:
    """Oropharynx is staged by its own table when the report calls it p16-positive / HPV-associated; a p16
    status not stated is staged as p16-negative (AJCC 8th edition)."""
    return "oropharynx p16+" if site == "oropharynx" and _HPV_POSITIVE.search(text) else site


def report_primary(report: Report) -> Primary | None:
    """The primary the report is about (see the module docstring); None when it names none."""
    text = report.text
    named = _named(text)
    if not named:
        return None
    counts: dict[str, int] = {}
    for site, _, _ in named:
        counts[site] = counts.get(site, 0) + 1
    top = max(counts.values())
    site = next(s for s, _, _ in sorted(named, key=lambda n: n[1].start()) if counts[s] == top)
    side = next((found for s, m, (left, right) in sorted(named, key=lambda n: n[1].start()) if s == site
                 and (found := _side_at(text, m.start(), m.end(), left, right))), None)
    first = min((m for s, m, _ in named if s == site), key=lambda m: m.start())
    return Primary(_with_hpv(site, text), side, first.start(), first.end())


def site_of_words(words: str, text: str) -> Primary | None:
    """The primary that site words of a TNM statement name ("left breast", "primary 2 rectum"); None when
    they name no site of SITE_WORDS. ``text`` is the report (for the oropharynx's HPV status)."""
    for site, pattern in [*SITE_WORDS.items(), ("kidney", _RENAL)]:
        m = pattern.search(words)
        if m:
            side = _side_at(words, m.start(), m.end(), 0, len(words))
            return Primary(_with_hpv(site, text), side, -1, -1)
    return None
