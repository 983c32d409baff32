"""Run several reports' task instances on one model, decoded together, and turn the outputs into table rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from radlite.confidence import TokenScores, model_score, rule_score
from radlite.evidence import Evidence, evidence_columns
from radlite.evidence_support import supported
from radlite.inference import crashlog
from radlite.inference.cache import CachedOutput, ResultCache, cache_key
from radlite.inference.failures import ModelFailure
from radlite.prompts import Prompt, render_prompt
from radlite.report import Report
from radlite.tables import EVIDENCE_TABLES
from radlite.tasks import TASKS, ParseError, Task, TaskInstance
from radlite.withholding import assertion_owned, not_applicable, withheld_columns


class InferenceCounts(BaseModel):
    """What model work cost and gave; summed per report, then over the run."""

    cache_hits: int = Field(0, description="Task outputs served from the result cache.")
    cache_lookups: int = Field(0, description="Task outputs looked up in the result cache.")
    model_ms: int = Field(0, description="Milliseconds spent generating.")
    prompt_tokens: int = Field(0, description="Prompt tokens of the generated outputs.")
    prefill_tokens: int = Field(0, description="Prompt tokens llama.cpp evaluated (a shared prefix counts once).")
    completion_tokens: int = Field(0, description="Tokens generated.")
    outputs_valid: int = Field(0, description="Outputs that parsed into the task's typed result.")
    outputs_invalid: int = Field(0, description="Outputs kept with valid = false.")
    rules_answered: int = Field(0, description="Task instances the rules answered (never sent to a model).")
    cascaded: int = Field(0, description="Task instances the rules left open, passed on to the model.")
    model_instances: int = Field(0, description="Task instances answered by a model (or its cache).")
    model_errors: int = Field(0, description="Task instances whose model call failed (model_error:, "
                                             "context_overflow:); the next incremental run plans them again.")



#: A row's raw confidence score from the row and its evidence (radlite.confidence).
Scorer = Callable[[dict, Evidence | None], float | None]


def answer_rows(task: Task, result: BaseModel, raw: str, evidence: list[Evidence | None], instance: TaskInstance,
                report: Report, common: dict, scorer: Scorer | None = None) -> list[dict]:
    """Rows of the task's table for one typed answer, each with its evidence columns, its assertion read
    by the engine, its raw confidence score (``scorer``; by default the rules' cue class, radlite.confidence;
    the routing's calibration maps it later) and whether it is withheld (radlite.withholding)."""
    rows = task.rows(result, instance, report)
    if not rows:  # nothing found (no entity, no change): one row says the task ran
        rows, evidence = [task.known_columns(instance, report)], [None]
    with_evidence = task.table in EVIDENCE_TABLES
    inapplicable = not_applicable(task.name, report.text)
    out = []
    for row, ev in zip(rows, evidence, strict=True):
        if with_evidence:
            row = assertion_owned(task.name, row, ev, report.text)
            row = {**row, **_evidence(task, row, ev, report.text), **_offsets(task, ev)}
        score = scorer(row, ev) if scorer else rule_score(task.table, row, ev, report.text)
        row = {**common, **row, "valid": True, "raw_output": raw, "error": None, "confidence": score}
        out.append({**row, **withheld_columns(row, inapplicable)})
    return out


def _evidence(task: Task, row: dict, evidence: Evidence | None, text: str) -> dict:
    """The evidence columns of one row: where its value comes from, grounded, and supported."""
    return {**evidence_columns(evidence, text), "supported": supported(task.name, row, evidence, text)}


def _offsets(task: Task, evidence: Evidence | None) -> dict:
    """The table's own offset columns, written from the row's evidence (none when the table has none)."""
    if task.writes.offsets is None or evidence is None:
        return {}
    start, end = task.writes.offsets
    found = evidence.grounded
    return {start: evidence.start if found else None, end: evidence.end if found else None}


def invalid_row(task: Task, instance: TaskInstance, report: Report, common: dict, raw: str | None,
                error: str) -> dict:
    """A row with no value (nothing to withhold): the answer did not parse or the model call failed."""
    return {**common, **task.known_columns(instance, report), "valid": False, "raw_output": raw, "error": error,
            "confidence": None, "withheld": False, "withheld_reason": None}


def result_rows(task_name: str, raw: str, instance: TaskInstance, report: Report,
                common: dict, tokens: TokenScores | None = None) -> list[dict]:
    """Parse one model output into rows of its task's table, grounded in the report text, each scored by
    the probabilities of the tokens that wrote its value (``tokens``; none: no score); unparseable output
    is one valid=false row."""
    task = TASKS[task_name]
    try:
        result = task.parse(raw)
    except ParseError as exc:
        return [invalid_row(task, instance, report, common, raw, str(exc))]
    return answer_rows(task, result, raw, task.ground(result, instance, report), instance, report, common,
                       lambda row, _: model_score(task.table, row, tokens))


@dataclass
class ModelCall:
    """One task instance of one report on one model: its prompt, cache key and row columns."""

    instance: TaskInstance
    prompt: Prompt
    key: str
    common: dict
    n_ctx: int

    @property
    def task(self) -> Task:
        return TASKS[self.instance.task]


def plan_calls(model, report: Report, instances: list[TaskInstance], run_id: str) -> list[ModelCall]:
    """The model calls of one report's instances, in order (tasks of one report share a prefix)."""
    profile, model_id = model.entry.profile, model.entry.label()
    calls = []
    for instance in instances:
        task = TASKS[instance.task]
        prompt = render_prompt(profile, task, instance, report)
        calls.append(ModelCall(instance, prompt, cache_key(model.identity, prompt.text, prompt.decoding_params()),
                               {"report_id": report.report_id, "task": task.name, "model_id": model_id,
                                "prompt_id": prompt.prompt_id, "prompt_sha256": prompt.sha256, "run_id": run_id},
                               model.entry.n_ctx))
    return calls


def cached_outputs(calls: list[ModelCall], cache: ResultCache | None,
                   stats: InferenceCounts) -> list[CachedOutput | None]:
    """Each call's output (with its token scores) from the result cache, or None where the model must answer."""
    if cache is None:
        return [None] * len(calls)
    outputs = [cache.lookup(call.key) for call in calls]
    stats.cache_lookups += len(calls)
    stats.cache_hits += sum(found is not None for found in outputs)
    return outputs


def call_rows(call: ModelCall, raw: str, report: Report, stats: InferenceCounts,
              tokens: TokenScores | None = None) -> list[tuple[str, dict]]:
    rows = result_rows(call.task.name, raw, call.instance, report, call.common, tokens)
    stats.model_instances += 1
    stats.outputs_valid += rows[0]["valid"]
    stats.outputs_invalid += not rows[0]["valid"]
    return [(call.task.table, row) for row in rows]


def failed_call_rows(call: ModelCall, report: Report, exc: Exception, stats: InferenceCounts) -> list[tuple[str, dict]]:
    """A model call that raised: one valid=false row with the error, never a crash."""
    stats.outputs_invalid += 1
    stats.model_instances += 1
    stats.model_errors += 1
    failure = ModelFailure.of_exception(exc, call.common["model_id"], call.n_ctx)
    return [(call.task.table, invalid_row(call.task, call.instance, report, call.common, None, failure.error))]


def count_generation(stats: InferenceCounts, prompt_tokens: int, completion_tokens: int) -> None:
    stats.prompt_tokens += prompt_tokens
    stats.completion_tokens += completion_tokens


def answers_by_prompt(rows: list[tuple[str, dict]]) -> dict[str, list[tuple]]:
    """A report's task rows grouped by the prompt that produced them, each row's values without the
    columns that say how or when it was produced (raw text, run): what batching must not change."""
    grouped: dict[str, list[tuple]] = {}
    for table, row in rows:
        if row.get("prompt_sha256"):
            grouped.setdefault(row["prompt_sha256"], []).append(
                (table, *sorted((k, str(v)) for k, v in row.items() if k not in ("raw_output", "run_id"))))
    return {sha: sorted(values) for sha, values in grouped.items()}


def run_reports(model, work: list[tuple[Report, list[TaskInstance], InferenceCounts]], run_id: str,
                cache: ResultCache | None) -> list[list[tuple[str, dict]]]:
    """(table, row) pairs per report for several reports' instances on one model, decoded together
    (``model.generate_groups``: each report's prompts one group, its shared prefix evaluated once, all
    answers decoded in one batch). A report whose inference fails gets valid=false rows with the error;
    the others are unaffected."""
    per_report = [plan_calls(model, report, instances, run_id) for report, instances, _ in work]
    planned = [(calls, cached_outputs(calls, cache, stats)) for calls, (_, _, stats) in zip(per_report, work)]
    # a prompt asked twice in the batch (a report sent twice under two ids) is decoded once, and the
    # second counts as a cache hit: the answer a later batch would find in the cache
    decoded: dict[str, ModelCall] = {}  # cache key -> the call whose answer is decoded for it
    pending = []
    for calls, outputs in planned:
        todo = []
        for call, cached in zip(calls, outputs, strict=True):
            if cached is None and call.key not in decoded:
                decoded[call.key] = call
                todo.append(call)
        pending.append(todo)
    with crashlog.evaluation(model.entry.label()):
        results = iter(model.generate_groups([[c.prompt for c in calls] for calls in pending if calls]))
    answers: dict[str, object] = {}  # cache key -> Completion, or the exception that failed its report
    for (_, _, stats), todo in zip(work, pending, strict=True):
        if todo:
            completions, cost = next(results)
            stats.model_ms += int(cost.seconds * 1000)
            stats.prefill_tokens += cost.prefill_tokens
            if isinstance(completions, Exception):
                completions = [completions] * len(todo)
            answers.update({call.key: done for call, done in zip(todo, completions, strict=True)})
    out = []
    for (report, _, stats), (calls, outputs) in zip(work, planned, strict=True):
        rows: list[tuple[str, dict]] = []
        for call, cached in zip(calls, outputs, strict=True):
            answer = answers.get(call.key) if cached is None else None
            if isinstance(answer, Exception):
                rows += failed_call_rows(call, report, answer, stats)
                continue
            if answer is not None:
                raw, scores = answer.text, (answer.logprobs, answer.token_ends)
                if decoded[call.key] is call:
                    count_generation(stats, answer.prompt_tokens, answer.completion_tokens)
                    if cache:
                        cache.put(call.key, raw, scores)
                elif cache:
                    stats.cache_hits += 1
            else:
                raw, scores = cached
            tokens = TokenScores(raw, *scores) if scores and scores[0] else None
            rows += call_rows(call, raw, report, stats, tokens)
        out.append(rows)
    return out
