"""The typed records of an evaluation, as written to eval.json and read back by `radlite train route`."""

from __future__ import annotations

from pydantic import BaseModel

from radlite.routing import ModelEntry


class SampleScore(BaseModel):
    id: str
    score: float
    valid: bool
    raw: str
    claims: int = 0
    grounded: int = 0


class RadsAnalysis(BaseModel):
    """RADS beyond accuracy: validity, per-system accuracy and the kind of each error."""

    validity: float
    per_system_accuracy: dict[str, float]
    per_system_n: dict[str, int]
    #: undercall / overcall (same system, lower / higher severity), safe, wrong_system, invalid -> count
    errors: dict[str, int]


class TaskEvaluation(BaseModel):
    """One task's figures: the paper's metric, its bootstrap CI, validity and every sample's score."""

    metric: str
    score: float
    ci95: tuple[float, float]
    n: int
    validity: float
    model_id: str
    seconds_per_sample: float
    samples: list[SampleScore]
    #: share of the answers' evidence-claiming values that the report text states (None: none claimed)
    grounded_share: float | None = None
    rads: RadsAnalysis | None = None
    #: NLI only: reference label -> predicted label (or 'invalid') -> count
    confusion: dict[str, dict[str, int]] | None = None


class TaskComparison(BaseModel):
    """A task scored by two routings on the same samples, with the paper's paired test."""

    baseline: float
    candidate: float
    delta: float
    test: str
    statistic: float
    p_value: float
    #: McNemar only: the 2x2 table of paired correct/incorrect outcomes
    table: list[list[int]] | None = None


class Evaluation(BaseModel):
    """One routing table evaluated on one split (eval.json)."""

    routing: str
    split: str
    n: int
    tasks: dict[str, TaskEvaluation]
    models: dict[str, ModelEntry]
    task_models: dict[str, str | list[str]]
    #: Against the baseline evaluated in the same command, when there was one.
    comparison: dict[str, TaskComparison] | None = None
    #: Impression generation against trivial baselines (name -> comparison), when asked for.
    trivial: dict[str, TaskComparison] | None = None

    @classmethod
    def load(cls, path: str) -> Evaluation:
        with open(path) as fh:
            return cls.model_validate_json(fh.read())

    def route_keys(self, task: str) -> list[str]:
        keys = self.task_models[task]
        return [keys] if isinstance(keys, str) else list(keys)

    def route(self, task: str) -> list[ModelEntry]:
        """The entries the evaluated routing sent ``task`` to (a cascade: rules, then the model)."""
        return [self.models[k] for k in self.route_keys(task)]
