"""Run one report's task instances on one model and turn the outputs into table rows."""

from __future__ import annotations

from pydantic import BaseModel, Field

from radlite.inference.cache import ResultCache, cache_key
from radlite.prompts import render_prompt
from radlite.report import Report
from radlite.tasks import TASKS, ParseError, TaskInstance


class InferenceCounts(BaseModel):
    """What model work cost and gave; summed per report, then over the run."""

    cache_hits: int = Field(0, description="Task outputs served from the result cache.")
    cache_lookups: int = Field(0, description="Task outputs looked up in the result cache.")
    model_ms: int = Field(0, description="Milliseconds spent generating.")
    prompt_tokens: int = Field(0, description="Prompt tokens of the generated outputs.")
    completion_tokens: int = Field(0, description="Tokens generated.")
    outputs_valid: int = Field(0, description="Outputs that parsed into the task's typed result.")
    outputs_invalid: int = Field(0, description="Outputs kept with valid = false.")


def result_rows(task_name: str, raw: str, instance: TaskInstance, report: Report,
                common: dict) -> list[dict]:
    """Parse one output into rows of its task's table; unparseable output is one valid=false row."""
    task = TASKS[task_name]
    try:
        result = task.parse(raw)
    except ParseError as exc:
        known = task.known_columns(instance, report)
        return [{**common, **known, "valid": False, "raw_output": raw, "error": str(exc)}]
    specific = task.rows(result, instance, report) or [task.known_columns(instance, report)]
    return [{**common, **row, "valid": True, "raw_output": raw, "error": None} for row in specific]


def model_error(exc: Exception) -> str:
    """The ``error`` of a row whose model call failed: a code, then llama.cpp's words."""
    message = f"{type(exc).__name__}: {exc}"[:500]
    if "exceed context window" in message or "context" in message and "too long" in message:
        return f"context_overflow: {message} (raise n_ctx in the routing entry to process such reports)"
    return f"model_error: {message}"


def run_report_tasks(model, report: Report, instances: list[TaskInstance], run_id: str,
                     cache: ResultCache | None, stats: InferenceCounts) -> list[tuple[str, dict]]:
    """(table, row) pairs for every instance, run back to back so the report prefix is reused."""
    profile, model_id = model.entry.profile, model.entry.label()
    out: list[tuple[str, dict]] = []
    for instance in instances:
        task = TASKS[instance.task]
        prompt = render_prompt(profile, task, instance, report)
        key = cache_key(model.identity, prompt.text, prompt.decoding_params())
        raw = cache.get(key) if cache else None
        stats.cache_lookups += cache is not None
        common = {"report_id": report.report_id, "task": task.name, "model_id": model_id,
                  "prompt_id": prompt.prompt_id, "prompt_sha256": prompt.sha256, "run_id": run_id}
        if raw is None:
            try:
                generation = model.generate(prompt)
            except Exception as exc:  # noqa: BLE001 - any model failure becomes this instance's row, not a crash
                stats.outputs_invalid += 1
                row = {**common, **task.known_columns(instance, report), "valid": False, "raw_output": None,
                       "error": model_error(exc)}
                out.append((task.table, row))
                continue
            raw = generation.text
            stats.model_ms += int(generation.seconds * 1000)
            stats.prompt_tokens += generation.prompt_tokens
            stats.completion_tokens += generation.completion_tokens
            if cache:
                cache.put(key, raw)
        else:
            stats.cache_hits += 1
        rows = result_rows(task.name, raw, instance, report, common)
        stats.outputs_valid += rows[0]["valid"]
        stats.outputs_invalid += not rows[0]["valid"]
        out.extend((task.table, row) for row in rows)
    return out
