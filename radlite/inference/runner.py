"""Run one report's task instances on one model and turn the outputs into table rows."""

from __future__ import annotations

from dataclasses import dataclass

from radlite.inference.cache import ResultCache, cache_key
from radlite.prompts.profiles import render_prompt
from radlite.report import Report
from radlite.tasks import TASKS, ParseError, TaskInstance


@dataclass
class RunStats:
    """Per-report inference counts; each field is also the name of the Beam counter it feeds."""

    cache_hits: int = 0
    cache_lookups: int = 0
    model_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    outputs_valid: int = 0
    outputs_invalid: int = 0


def result_rows(task_name: str, raw: str, profile: str, instance: TaskInstance, report: Report,
                common: dict) -> list[dict]:
    """Parse one output into rows of its task's table; unparseable output is one valid=false row."""
    task = TASKS[task_name]
    try:
        result = task.parse(raw, profile)
    except ParseError as exc:
        return [{**common, **task.invalid_row(instance, report), "valid": False, "raw_output": raw, "error": str(exc)}]
    specific = task.rows(result, instance, report) or [task.invalid_row(instance, report)]
    return [{**common, **row, "valid": True, "raw_output": raw, "error": None} for row in specific]


def run_report_tasks(model, report: Report, instances: list[TaskInstance], run_id: str,
                     cache: ResultCache | None, stats: RunStats) -> list[tuple[str, dict]]:
    """(table, row) pairs for every instance, run back to back so the report prefix is reused."""
    profile, model_id = model.entry.profile, model.entry.label()
    out: list[tuple[str, dict]] = []
    for instance in instances:
        task = TASKS[instance.task]
        prompt = render_prompt(profile, task, instance, report)
        key = cache_key(model.identity, prompt.text, prompt.decoding_params())
        raw = cache.get(key) if cache else None
        stats.cache_lookups += cache is not None
        if raw is None:
            generation = model.generate(prompt)
            raw = generation.text
            stats.model_ms += int(generation.seconds * 1000)
            stats.prompt_tokens += generation.prompt_tokens
            stats.completion_tokens += generation.completion_tokens
            if cache:
                cache.put(key, raw)
        else:
            stats.cache_hits += 1
        common = {"report_id": report.report_id, "task": task.name, "model_id": model_id,
                  "prompt_id": prompt.prompt_id, "prompt_sha256": prompt.sha256, "run_id": run_id}
        rows = result_rows(task.name, raw, profile, instance, report, common)
        stats.outputs_valid += rows[0]["valid"]
        stats.outputs_invalid += not rows[0]["valid"]
        out.extend((task.table, row) for row in rows)
    return out
