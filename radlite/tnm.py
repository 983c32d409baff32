"""N and M stages as the report states them (T2N1M0, cT3 N2 M1a, ypN0, N2 disease, M1b)."""

from __future__ import annotations

import re

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.spans import finding_spans, matches_in

_PREFIX = r"(?:[cpyr]{1,2})?"
_N = re.compile(rf"(?<![A-Za-z]){_PREFIX}N(?P<stage>[0-3])[a-c]?(?=M|[^A-Za-z0-9]|$)")
_M = re.compile(rf"(?<![A-Za-z]){_PREFIX}M(?P<stage>[01])[a-c]?(?![A-Za-z0-9])")
#: An M stage only counts in a report about staging or metastases ("M1 segment" of a cerebral
#: artery is not a stage).
_M_CONTEXT = re.compile(r"stag|metasta|tnm|(?<![A-Za-z])[cpy]?[TN][0-4x]", re.I)


def _first(report: Report, pattern: re.Pattern, letter: str, needs_context: bool) -> tuple[str, Evidence] | None:
    spans = finding_spans(report)
    if needs_context and not any(_M_CONTEXT.search(report.text, s, e) for s, e in spans):
        return None
    for m in matches_in(report, pattern, spans):
        return f"{letter}{m.group('stage')}", Evidence(m.start(), m.end())
    return None


def stated_n_stage(report: Report) -> tuple[str, Evidence] | None:
    """The first N0-N3 the report states, with its span; None when it states none."""
    return _first(report, _N, "N", needs_context=False)


def stated_m_stage(report: Report) -> tuple[str, Evidence] | None:
    """The first M0-M1 (M1a-c count as M1) the report states in a staging context."""
    return _first(report, _M, "M", needs_context=True)
