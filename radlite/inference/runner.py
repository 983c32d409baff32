"""Run one report's task instances on one model and turn the outputs into table rows."""

from __future__ import annotations

from pydantic import BaseModel, Field

from radlite.evidence import Evidence, evidence_columns
from radlite.inference.cache import ResultCache, cache_key
from radlite.prompts import render_prompt
from radlite.report import Report
from radlite.routing import RULES, RoutingTable
from radlite.rules.answers import rule_answer, rule_tables_sha256, rules_model_id, rules_prompt_id
from radlite.tables import EVIDENCE_TABLES
from radlite.tasks import TASKS, ParseError, Task, TaskInstance


class InferenceCounts(BaseModel):
    """What model work cost and gave; summed per report, then over the run."""

    cache_hits: int = Field(0, description="Task outputs served from the result cache.")
    cache_lookups: int = Field(0, description="Task outputs looked up in the result cache.")
    model_ms: int = Field(0, description="Milliseconds spent generating.")
    prompt_tokens: int = Field(0, description="Prompt tokens of the generated outputs.")
    completion_tokens: int = Field(0, description="Tokens generated.")
    outputs_valid: int = Field(0, description="Outputs that parsed into the task's typed result.")
    outputs_invalid: int = Field(0, description="Outputs kept with valid = false.")
    rules_answered: int = Field(0, description="Task instances the rules answered (never sent to a model).")
    cascaded: int = Field(0, description="Task instances the rules left open, passed on to the model.")



def answer_rows(task: Task, result: BaseModel, raw: str, evidence: list[Evidence | None], instance: TaskInstance,
                report: Report, common: dict) -> list[dict]:
    """Rows of the task's table for one typed answer, each with its evidence columns."""
    rows = task.rows(result, instance, report)
    if not rows:  # nothing found (no entity, no change): one row says the task ran
        rows, evidence = [task.known_columns(instance, report)], [None]
    with_evidence = task.table in EVIDENCE_TABLES
    return [{**common, **row, **(evidence_columns(ev, report.text) if with_evidence else {}), "valid": True,
             "raw_output": raw, "error": None} for row, ev in zip(rows, evidence, strict=True)]


def invalid_row(task: Task, instance: TaskInstance, report: Report, common: dict, raw: str | None,
                error: str) -> dict:
    return {**common, **task.known_columns(instance, report), "valid": False, "raw_output": raw, "error": error}


def result_rows(task_name: str, raw: str, instance: TaskInstance, report: Report,
                common: dict) -> list[dict]:
    """Parse one model output into rows of its task's table, grounded in the report text;
    unparseable output is one valid=false row."""
    task = TASKS[task_name]
    try:
        result = task.parse(raw)
    except ParseError as exc:
        return [invalid_row(task, instance, report, common, raw, str(exc))]
    return answer_rows(task, result, raw, task.ground(result, instance, report), instance, report, common)


def rules_step(routing: RoutingTable, report: Report, instance: TaskInstance, run_id: str,
               stats: InferenceCounts) -> tuple[list[dict], str | None]:
    """The rules' part of a task's route: (rows they answered, next entry key). The rows are empty and
    the key names the model when a cascade passes the instance on; a route without rules gives
    ([], its entry)."""
    chain = routing.chain(instance.task)
    if routing.models[chain[0]].kind != RULES:
        return [], chain[0]
    task = TASKS[instance.task]
    answer = rule_answer(report, instance, last=len(chain) == 1)
    common = {"report_id": report.report_id, "task": task.name, "model_id": rules_model_id(),
              "prompt_id": rules_prompt_id(task.name), "prompt_sha256": rule_tables_sha256(), "run_id": run_id}
    if answer is not None:
        stats.rules_answered += 1
        stats.outputs_valid += 1
        return answer_rows(task, answer.result, answer.raw, answer.evidence, instance, report, common), None
    if len(chain) > 1:
        stats.cascaded += 1
        return [], chain[1]
    stats.outputs_invalid += 1
    return [invalid_row(task, instance, report, common, None, "no_answer: the report states no value the rules "
                                                               "read (route the task to [rules, model] to ask a "
                                                               "model)")], None


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
                out.append((task.table, invalid_row(task, instance, report, common, None, model_error(exc))))
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
