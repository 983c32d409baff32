"""N and M staging of oncologic cross-sectional studies."""

from __future__ import annotations

import re

from pydantic import BaseModel

from radlite.report import Report
from radlite.tasks.base import (
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    literal_grammar,
)

_ONCOLOGY = re.compile(r"cancer|carcinoma|malignan|tumou?r|neoplas|metasta|lymphoma|sarcoma|oncolog|staging|"
                       r"melanoma|mass\b|lymphadenopathy", re.I)
N_STAGES, M_STAGES = ("N0", "N1", "N2", "N3"), ("M0", "M1")


def is_oncologic_cross_sectional(report: Report) -> bool:
    """CT, MR or PET reports that talk about a cancer: where N and M staging apply."""
    return report.modality in ("CT", "MR", "PET") and bool(_ONCOLOGY.search(report.text))


class StageResult(BaseModel):
    n_stage: str | None = None
    m_stage: str | None = None


def parse_n_stage(raw: str) -> str:
    """N0-N3 from 'N2', 'N staging: N2', or the published prompt's 'Positive/Negative' lead-in."""
    text = clean_output(raw)
    m = re.search(r"\bN\s?([0-3])\b", text, re.I)
    if m:
        return f"N{m.group(1)}"
    if re.match(r"\s*negative\b", text, re.I):
        return "N0"
    raise ParseError(f"no N stage in {text[:80]!r}")


def parse_m_stage(raw: str) -> str:
    text = clean_output(raw)
    m = re.search(r"\bM\s?([01])\b", text, re.I)
    if m:
        return f"M{m.group(1)}"
    if re.search(r"\bno (distant )?metasta", text, re.I):
        return "M0"
    raise ParseError(f"no M stage in {text[:80]!r}")


class _StagingTask(Task):
    """N or M staging: one stage field of the ``staging`` table, scored by exact match."""

    table = "staging"
    metric_name = "accuracy"
    classification = True
    stage_field = ""
    stages: tuple[str, ...] = ()

    def applies(self, report: Report) -> bool:
        return is_oncologic_cross_sectional(report)

    def stage(self, raw: str) -> str:
        raise NotImplementedError

    def parse(self, raw: str) -> StageResult:
        return StageResult(**{self.stage_field: self.stage(raw)})

    def score(self, prediction: StageResult | None, reference: StageResult) -> float:
        return float(prediction is not None
                     and getattr(prediction, self.stage_field) == getattr(reference, self.stage_field))

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=6, grammar=literal_grammar(self.stages))

    def answer(self, result: StageResult) -> str:
        return getattr(result, self.stage_field)


class NStaging(_StagingTask):
    name = "n_staging"
    stage_field = "n_stage"
    stages = N_STAGES

    def stage(self, raw: str) -> str:
        return parse_n_stage(raw)


class MStaging(_StagingTask):
    name = "m_staging"
    stage_field = "m_stage"
    stages = M_STAGES

    def stage(self, raw: str) -> str:
        return parse_m_stage(raw)
