"""`radlite models validate`: file hashes, GGUF metadata and a smoke evaluation against the manifest."""

from __future__ import annotations

from pydantic import BaseModel

from radlite.routing import ManifestMismatch, RoutingTable, load_routing
from radlite.tasks import TASKS
from training.data.build import load_split
from training.eval.predict import predict


class ValidationResult(BaseModel):
    ok: bool
    problems: list[str]
    scores: dict[str, float]
    #: tasks whose smoke score is not held to the manifest's minimum, and why
    unchecked: dict[str, str] = {}


def first_per_task(records: list, limit: int | None) -> list:
    """The first ``limit`` records of each task (all of them when limit is None)."""
    if limit is None:
        return records
    kept, counts = [], {}
    for record in records:
        counts[record.task] = counts.get(record.task, 0) + 1
        if counts[record.task] <= limit:
            kept.append(record)
    return kept


def validate(routing: str, models_dir: str | None = None, smoke_limit: int | None = None) -> ValidationResult:
    try:
        table: RoutingTable = load_routing(routing, models_dir, verify=True)
    except (ManifestMismatch, FileNotFoundError, ValueError) as exc:
        return ValidationResult(ok=False, problems=[str(exc)], scores={})
    problems: list[str] = []
    for entry in table.models.values():
        problems += entry.traits.check(entry)
    scores: dict[str, float] = {}
    if table.manifest.smoke_set and not problems:
        records = first_per_task(load_split(table.manifest.smoke_set), smoke_limit)
        predictions = predict(records, table)
        for task in TASKS:
            task_scores = [p.score for p in predictions if p.task == task]
            if task_scores:
                scores[task] = sum(task_scores) / len(task_scores)
        # a minimum was set for the entry the table names: a task sent to a fallback is a different model
        unchecked = {task: f"routed to the fallback {f.fallback}: {f.entry} is not installed"
                     for f in table.fell_back for task in f.tasks}
        for task, minimum in table.manifest.min_scores.items():
            if task in scores and task not in unchecked and scores[task] < minimum:
                problems.append(f"{task}: smoke score {scores[task]:.3f} is below the manifest minimum {minimum:.3f}")
        return ValidationResult(ok=not problems, problems=problems, scores=scores, unchecked=unchecked)
    return ValidationResult(ok=not problems, problems=problems, scores=scores)
