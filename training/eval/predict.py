"""Run a routing table over a split: the same prompts, grammars and parsers the pipeline uses."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from pydantic import BaseModel

from radlite.evidence_support import supported
from radlite.kinds import get_kind
from radlite.kinds.cascade import answer_instances
from radlite.routing import RoutingTable
from radlite.tasks import TASKS, ParseError
from training.data.records import InstructionRecord, record_instance


class Prediction(BaseModel):
    id: str
    task: str
    model_id: str
    raw: str
    valid: bool
    score: float
    reference: str
    seconds: float
    #: values in the answer that point at report text, and how many of them the text states
    claims: int = 0
    grounded: int = 0


def _answer(record: InstructionRecord, routing: RoutingTable, shots: list[InstructionRecord]) -> tuple[str, str]:
    """(model_id, raw answer) along the task's route, by the pipeline's own answer path (rules first in
    a cascade; k-shot examples as earlier turns of the model's prompt)."""
    report, instance = record_instance(record)
    solved = [(*record_instance(s), s.output) for s in shots]
    answered = answer_instances(routing, report, [instance],
                                lambda key: get_kind(routing.models[key].kind).load(routing.models[key], shots=solved),
                                "eval")
    first = answered.rows[0][1]
    return first["model_id"], first["raw_output"] or ""


def scored(record: InstructionRecord, model_id: str, raw: str, seconds: float) -> Prediction:
    """An answer to ``record`` parsed and scored with its task's metric (unparseable: valid = false)."""
    task = TASKS[record.task]
    try:
        parsed, valid = task.parse(raw), True
    except ParseError:
        parsed, valid = None, False
    claims, grounded = evidence_counts(record, parsed) if parsed is not None else (0, 0)
    return Prediction(id=record.id, task=record.task, model_id=model_id, raw=raw, valid=valid,
                      score=task.score(parsed, task.parse(record.output)), reference=record.output, seconds=seconds,
                      claims=claims, grounded=grounded)


def evidence_counts(record: InstructionRecord, parsed: BaseModel) -> tuple[int, int]:
    """(values that claim a place in the report, those the report text states), grounded exactly as the
    pipeline grounds a model's rows: a score counts right labels, this counts invented findings. A value
    whose own evidence contradicts it (``supported`` false: M1 on "no distant metastasis") counts as not
    grounded, so `radlite train route` sets such candidates aside like those that invent findings."""
    report, instance = record_instance(record)
    task = TASKS[record.task]
    pairs = [(row, e) for row, e in zip(task.rows(parsed, instance, report), task.ground(parsed, instance, report),
                                        strict=False) if e is not None]
    return len(pairs), sum(e.grounded and supported(task.name, row, e, report.text) is not False for row, e in pairs)


def predict(records: list[InstructionRecord], routing: RoutingTable, *, k_shot: int = 0,
            shot_pool: list[InstructionRecord] = (), seed: int = 42,
            progress: Callable[[int], None] | None = None) -> list[Prediction]:
    """One prediction per record (tasks missing from the routing table are skipped)."""
    rng = random.Random(seed)
    pool: dict[str, list[InstructionRecord]] = {}
    for record in shot_pool:
        pool.setdefault(record.task, []).append(record)
    out = []
    for record in records:
        if record.task not in routing.tasks:
            continue
        candidates = pool.get(record.task, [])
        shots = rng.sample(candidates, min(k_shot, len(candidates)))
        start = time.perf_counter()
        model_id, raw = _answer(record, routing, shots)
        out.append(scored(record, model_id, raw, time.perf_counter() - start))
        if progress:
            progress(1)
    return out
