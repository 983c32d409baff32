"""N and M stages as the report states them (T2N1M0, cT3 N2 M1a, ypN0, N2 disease, M1b), each with its
TNM statement and the primary that statement's clause names.

A statement is a run of T, N and M stages written together ("cT2a N1 M0", "T3N1", "pT1a N0", "N2");
its site words ("Right upper lobe primary: cT2a N1 M0", "Primary 2 (rectum) T2N0", "synchronous renal
cell carcinoma pT1a N0") come from radlite.text.sites, so a report that stages two primaries can be read
per primary (radlite.rules.stages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radlite.evidence import Evidence
from radlite.text.sites import LUNG_LOBE, SIDE, Site, statement_sites, with_site
from radlite.text.spans import ReportText, finding_spans, matches_in

#: What may stand before a stage letter: c (clinical), p (pathologic), y (after therapy), r (recurrence).
_PREFIX = r"(?:[cpyr]{1,2})?"
#: Any N or M stage token, in any case ("pN1", "M0", "n2"): the stage a staging row claims, read back.
STAGE_TOKEN = re.compile(rf"(?<![A-Za-z]){_PREFIX}(?P<stage>[NM][0-3])", re.I)
#: A T stage followed by its N stage, in any case (T2N1M0, pT1b N0, cT3 N2 M1a): a text that states a TNM
#: stage. Its prefix takes no "r" (as the withholding rules have always read it).
TNM_STATEMENT = re.compile(r"\b[cpy]{0,2}T[0-4x][a-d]?\s*,?\s*[cpy]{0,2}N[0-3x]", re.I)
_T = re.compile(rf"(?<![A-Za-z]){_PREFIX}T(?:[0-4](?:mi|[a-d])?|is|[xX])(?=N|M|[^A-Za-z0-9]|$)")
_N = re.compile(rf"(?<![A-Za-z]){_PREFIX}N(?P<stage>[0-3])[a-c]?(?=M|[^A-Za-z0-9]|$)")
_M = re.compile(rf"(?<![A-Za-z]){_PREFIX}M(?P<stage>[01])[a-c]?(?![A-Za-z0-9])(?!\s+segment)")
#: An M stage only counts in a report about staging or metastases, and never before "segment" (the
#: "M1 segment" of a cerebral artery is not a stage).
_M_CONTEXT = re.compile(r"stag|metasta|tnm|(?<![A-Za-z])[cpy]?[TN][0-4x]", re.I)
#: What may stand between the stages of one statement ("T2N1M0", "cT2a N1 M0", "T3, N1").
_JOINER = re.compile(r"[\s,]{0,3}")
#: Words naming the primary a statement stages: its organ or part ("right upper lobe", "left breast",
#: "sigmoid colon", "renal"), or its number ("primary 2", "second primary").
PRIMARY_SITES = re.compile(
    r"\b(?:primary|tumou?r|cancer)\s*(?:#|no\.?)?\s*(?:\d|(?-i:[A-D]))\b(?!\s*(?:mm|cm|%))|"
    r"\b(?:first|second|third)\s+primary\b|"
    rf"\b(?:{SIDE}\s+)?(?:{LUNG_LOBE}|lingula|lung|breast|kidney|renal|adrenal|ovary|"
    r"ovarian|testis|testicular|tonsil(?:lar)?|parotid|thyroid(?:\s+lobe)?)\b|"
    r"\b(?:(?:sigmoid|ascending|descending|transverse|right|left)\s+colon|colon|colonic|cecum|cecal|rectosigmoid|"
    r"rectum|rectal|anal|esophag(?:us|eal)|gastroesophageal\s+junction|gastric|stomach|"
    r"pancrea(?:s|tic)(?:\s+(?:head|body|tail))?|liver|hepatocellular|gallbladder|bile\s+duct|prostate|"
    r"prostatic|bladder|urothelial|endometri(?:um|al)|uter(?:us|ine)|cervix|larynx|laryngeal|tongue|"
    r"oral\s+cavity|oropharyn\w*|nasopharyn\w*|hypopharyn\w*)\b", re.I)


@dataclass(frozen=True)
class StatedStage:
    """One N or M stage a report states: ``stage`` N0-N3 / M0-M1 (M1a-c count as M1), ``evidence`` the
    stage as written ("pN1"), ``statement`` the whole TNM statement ("cT2a N1 M0"), ``site`` the
    primary its clause names (None: it names none), and ``prefix`` as written before the letter
    ("c", "p", "yp"; None when none)."""

    stage: str
    evidence: Evidence
    statement: Evidence
    site: Site | None
    prefix: str | None = None

    @property
    def site_evidence(self) -> Evidence:
        """The statement with its site words ("Right upper lobe primary: cT2a N1 M0")."""
        return with_site(self.statement.start, self.statement.end, self.site)


def _statements(report: ReportText) -> list[list[re.Match]]:
    """The report's TNM statements, each its T, N and M matches in text order; a statement holds an N
    or an M (a lone "T2" is more often an MR sequence than a stage)."""
    spans = finding_spans(report)
    patterns = [_T, _N]
    if any(_M_CONTEXT.search(report.text, s, e) for s, e in spans):
        patterns.append(_M)
    out: list[list[re.Match]] = []
    for span in spans:
        found = sorted((m for p in patterns for m in matches_in(report, p, [span])), key=lambda m: m.start())
        for m in found:
            last = out[-1][-1] if out and out[-1][-1].start() >= span[0] else None
            if last is not None and _ORDER.index(_letter(m)) > _ORDER.index(_letter(last)) \
                    and _JOINER.fullmatch(report.text, last.end(), m.start()):
                out[-1].append(m)
            else:
                out.append([m])
    return [s for s in out if any(_letter(m) != "T" for m in s)]


_ORDER = "TNM"


def _letter(m: re.Match) -> str:
    """T, N or M: the letter of a stage as written ("ypN0" -> N)."""
    return m.group().lstrip("cpyr")[0]


def _prefix(m: re.Match) -> str | None:
    """The prefix written before a stage's letter ("yp" of "ypN0"), lower case; None when none."""
    written = m.group()[:len(m.group()) - len(m.group().lstrip("cpyr"))]
    return written.lower() or None


def written_prefix(text: str, stage: str) -> str | None:
    """The prefix ``text`` writes before ``stage`` ("N1", "M0"): "yp" for "ypN1", None when none is written."""
    pattern = {"N": _N, "M": _M}[stage[0]]
    return next((_prefix(m) for m in pattern.finditer(text) if m.group("stage") == stage[1:2]), None)


def stated_stages(report: ReportText, letter: str) -> list[StatedStage]:
    """Every N (``letter`` "N") or M stage the report states, in the order of its finding sections, with
    its statement and site words; M stages only in a report about staging or metastases."""
    statements = _statements(report)
    sites = statement_sites(report.text, [(s[0].start(), s[-1].end()) for s in statements], PRIMARY_SITES)
    return [StatedStage(f"{letter}{m.group('stage')}", Evidence(m.start(), m.end()),
                        Evidence(statement[0].start(), statement[-1].end()), site, _prefix(m))
            for statement, site in zip(statements, sites, strict=True) for m in statement if _letter(m) == letter]
