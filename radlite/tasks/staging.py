"""N and M staging of oncologic cross-sectional studies."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.spans import finding_spans, matches_in, sentence_around
from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    literal_grammar,
)
from radlite.tnm import stated_m_stage, stated_n_stage

_ONCOLOGY = re.compile(r"cancer|carcinoma|malignan|tumou?r|neoplas|metasta|lymphoma|sarcoma|oncolog|staging|"
                       r"melanoma|mass\b|lymphadenopathy", re.I)
N_STAGES, M_STAGES = ("N0", "N1", "N2", "N3"), ("M0", "M1")


def is_oncologic_cross_sectional(report: Report) -> bool:
    """CT, MR or PET reports that talk about a cancer: where N and M staging apply."""
    return report.modality in ("CT", "MR", "PET") and bool(_ONCOLOGY.search(report.text))


class StageResult(BaseModel):
    n_stage: str | None = None
    m_stage: str | None = None


def _parse_stage(raw: str, letter: str, highest: int, none_pattern: str) -> str:
    """``{letter}0``..``{letter}{highest}`` written as such, or stage 0 where ``none_pattern`` matches."""
    text = clean_output(raw)
    m = re.search(rf"\b{letter}\s?([0-{highest}])\b", text, re.I)
    if m:
        return f"{letter}{m.group(1)}"
    if re.search(none_pattern, text, re.I):
        return f"{letter}0"
    raise ParseError(f"no {letter} stage in {text[:80]!r}")


def parse_n_stage(raw: str) -> str:
    """N0-N3 from 'N2', 'N staging: N2', or the published prompt's 'Positive/Negative' lead-in."""
    return _parse_stage(raw, "N", 3, r"^\s*negative\b")


def parse_m_stage(raw: str) -> str:
    """M0-M1 from 'M1', or 'no (distant) metastasis'."""
    return _parse_stage(raw, "M", 1, r"\bno (distant )?metasta")


class _StagingTask(Task):
    """N or M staging: one stage field of the ``staging`` table, scored by exact match."""

    table = "staging"
    metric_name = "accuracy"
    classification = True
    stage_field = ""
    stages: tuple[str, ...] = ()
    #: The stage from raw output (parse_n_stage or parse_m_stage); raises ParseError.
    parse_stage: Callable[[str], str]
    #: The stage the report states, with its span (rules); the words of the stage's topic.
    stated: Callable[[Report], tuple[str, Evidence] | None]
    topic: re.Pattern

    def skip_reason(self, report: Report) -> str | None:
        if report.modality not in ("CT", "MR", "PET"):
            return f"not a CT, MR or PET report (modality {report.modality})"
        return None if is_oncologic_cross_sectional(report) else "no cancer mentioned"

    def parse(self, raw: str) -> StageResult:
        return StageResult(**{self.stage_field: self.parse_stage(raw)})

    def score(self, prediction: StageResult | None, reference: StageResult) -> float:
        return float(prediction is not None
                     and getattr(prediction, self.stage_field) == getattr(reference, self.stage_field))

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=6, grammar=literal_grammar(self.stages))

    def answer(self, result: StageResult) -> str:
        return getattr(result, self.stage_field)

    def ground(self, result: StageResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """The stated stage when it matches; else the sentence about nodes (N) or metastases (M)."""
        stated = self.stated(report)
        if stated and stated[0] == getattr(result, self.stage_field):
            return [stated[1]]
        for m in matches_in(report, self.topic, finding_spans(report)):
            return [Evidence(*sentence_around(report.text, m.start(), m.end()))]
        return [Evidence()]


class NStaging(_StagingTask):
    name = "n_staging"
    stage_field = "n_stage"
    stages = N_STAGES
    parse_stage = staticmethod(parse_n_stage)
    stated = staticmethod(stated_n_stage)
    topic = re.compile(r"lymph|nod(?:e|al)|adenopath", re.I)


class MStaging(_StagingTask):
    name = "m_staging"
    stage_field = "m_stage"
    stages = M_STAGES
    parse_stage = staticmethod(parse_m_stage)
    stated = staticmethod(stated_m_stage)
    topic = re.compile(r"metasta", re.I)
