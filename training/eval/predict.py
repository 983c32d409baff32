"""Run a routing table over a split: the same prompts, grammars and parsers the pipeline uses."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from pydantic import BaseModel

from radlite.inference.engine import get_model
from radlite.prompts import Prompt
from radlite.routing import RULES, ModelEntry, RoutingTable
from radlite.rules.answers import rule_answer
from radlite.support import supported
from radlite.tasks import TASKS, ParseError
from training.data.records import InstructionRecord, record_instance, record_prompt

SYSTEM_END = "<|im_end|>\n"


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


def few_shot(prompt: Prompt, shots: list[tuple[Prompt, str]]) -> Prompt:
    """The same prompt with k solved examples as earlier ChatML turns after the system turn."""
    if not shots:
        return prompt
    head, _, body = prompt.text.partition(SYSTEM_END)
    examples = "".join(p.text.partition(SYSTEM_END)[2] + answer + SYSTEM_END for p, answer in shots)
    return prompt.__class__(**{**prompt.__dict__, "text": head + SYSTEM_END + examples + body})


def _model_output(record: InstructionRecord, entry: ModelEntry, shots: list[InstructionRecord]) -> str:
    """The language model's raw answer for one record (k-shot examples as earlier turns)."""
    examples = [(record_prompt(s, entry.profile), s.output) for s in shots]
    return get_model(entry).generate(few_shot(record_prompt(record, entry.profile), examples)).text


def _answer(record: InstructionRecord, routing: RoutingTable, shots: list[InstructionRecord]) -> tuple[str, str]:
    """(model_id, raw answer) along the task's route, as the pipeline answers: rules first in a cascade."""
    chain = routing.chain(record.task)
    entry = routing.models[chain[0]]
    if entry.kind == RULES:
        report, instance = record_instance(record)
        answer = rule_answer(report, instance, last=len(chain) == 1)
        if answer is not None or len(chain) == 1:
            return entry.label(), answer.raw if answer else ""
        entry = routing.models[chain[1]]
    return entry.label(), _model_output(record, entry, shots)


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
