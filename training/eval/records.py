"""The typed records of an evaluation, as written to eval.json and read back by `radlite train route`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, SerializeAsAny, model_validator

from radlite.hashing import text_sha256
from radlite.routing import ModelEntry, portable_path, resolve_path

#: What a figure rests on, best first: real reports, reports written by hand from published lexicons
#: and templates, generated reports (training/eval/evidence_sets.py says which records are which).
Evidence = Literal["real", "written", "synthetic"]
EVIDENCE_ORDER: tuple[str, ...] = ("real", "written", "synthetic")


class BaselineFigure(BaseModel):
    """The best trivial answerer's score on the same records (training/eval/trivial.py): what a model
    has to beat to be worth running."""

    name: str
    score: float
    ci95: tuple[float, float]
    n: int


class SampleScore(BaseModel):
    """One record's outcome. The answer is kept as its sha256 and length, never its text: an answer
    may copy sentences of a licensed report (IU X-ray is CC BY-NC-ND 4.0) into a committed eval.json.
    Two answers are the same when their hashes are."""

    id: str
    score: float
    valid: bool
    raw_sha256: str
    raw_chars: int
    claims: int = 0
    grounded: int = 0

    @model_validator(mode="before")
    @classmethod
    def _hash_legacy_raw(cls, data: Any) -> Any:
        """eval.json files written before answers were hashed carry ``raw``: read them as its hash."""
        if isinstance(data, dict) and "raw" in data:
            data = {k: v for k, v in data.items() if k != "raw"} | {
                "raw_sha256": text_sha256(data["raw"]), "raw_chars": len(data["raw"])}
        return data

    @classmethod
    def of(cls, id: str, score: float, valid: bool, raw: str, claims: int = 0, grounded: int = 0) -> SampleScore:
        return cls(id=id, score=score, valid=valid, raw_sha256=text_sha256(raw), raw_chars=len(raw), claims=claims,
                   grounded=grounded)


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
    #: The kind of text the references were made on (None: an evaluation written before this was recorded)
    evidence: Evidence | None = None
    #: The trivial baseline on the same records (None: not computed)
    baseline: BaselineFigure | None = None


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


def _resolved(path: str, origin: str) -> str:
    """``path`` as resolve_path finds it from ``origin``; as written when it is not on this machine."""
    try:
        return resolve_path(path, origin, None) if path else path
    except FileNotFoundError:
        return path


class Evaluation(BaseModel):
    """One routing table evaluated on one split (eval.json)."""

    routing: str
    split: str
    n: int
    tasks: dict[str, TaskEvaluation]
    #: Each entry with its kind's own options (serialized as its kind, as RoutingTable.models is).
    models: dict[str, SerializeAsAny[ModelEntry]]
    task_models: dict[str, str | list[str]]
    #: Against the baseline evaluated in the same command, when there was one.
    comparison: dict[str, TaskComparison] | None = None
    #: Impression generation against trivial baselines (name -> comparison), when asked for.
    trivial: dict[str, TaskComparison] | None = None
    #: Records made from reports on the fixed IU X-ray test list (training.eval.ledger.on_test_list);
    #: None in an evaluation written before this was recorded. `radlite train route` takes only 0.
    test_list_records: int | None = None

    @classmethod
    def load(cls, path: str) -> Evaluation:
        """The evaluation in ``path``, its model files resolved as a routing table's are (the embedded
        model by its scheme, others relative to the file); a file not on this machine keeps its name."""
        with open(path) as fh:
            evaluation = cls.model_validate_json(fh.read())
        origin = os.path.dirname(os.path.abspath(path))
        return evaluation.with_model_paths(lambda p: _resolved(p, origin))

    def with_model_paths(self, rename: Callable[[str], str]) -> Evaluation:
        """The evaluation with every model file renamed by ``rename`` (made portable, or resolved)."""
        return self.model_copy(update={"models": {k: e.with_paths(rename) for k, e in self.models.items()}})

    def write(self, path: str) -> None:
        """eval.json, its model files named as a routing table beside it names them (portable_path)."""
        origin = os.path.dirname(os.path.abspath(path))
        with open(path, "w") as fh:
            fh.write(self.with_model_paths(lambda p: portable_path(p, origin)).model_dump_json(indent=1))

    def route_keys(self, task: str) -> list[str]:
        keys = self.task_models[task]
        return [keys] if isinstance(keys, str) else list(keys)

    def route(self, task: str) -> list[ModelEntry]:
        """The entries the evaluated routing sent ``task`` to (a cascade: rules, then the model)."""
        return [self.models[k] for k in self.route_keys(task)]
