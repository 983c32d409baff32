"""The ``rules`` kind: the rule extractors answer what the report states (radlite.rules.answers).

An instance the rules cannot read is left open when a next entry follows (a ``[rules, model]``
cascade) and is otherwise one valid = false row saying so. A rules entry has no options: a routing
table written before kinds had their own options gave it the llama.cpp fields, which it ignores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from radlite.inference.cache import ResultCache
from radlite.inference.runner import answer_rows, invalid_row
from radlite.kinds.base import Answered, Asked, ModelEntry, ModelKind, Shot
from radlite.rules.answers import RULE_TASKS, rule_answer, rules_model_id, rules_prompt_id
from radlite.rules.fingerprint import rule_tables_sha256
from radlite.tasks import TASKS

RULES = "rules"
NO_ANSWER = ("no_answer: the report states no value the rules read (route the task to [rules, model] to ask a "
             "model)")


class RulesEntry(ModelEntry):
    """The rule extractors: nothing to load, nothing to prompt."""

    kind: Literal["rules"] = RULES


class RuleAnswerer:
    def answer(self, asked: list[Asked], run_id: str, cache: ResultCache | None) -> list[Answered]:
        return [self._report(a, run_id) for a in asked]

    def _report(self, asked: Asked, run_id: str) -> Answered:
        report, counts, rows, left = asked.report, asked.counts, [], []
        for instance, passes_on in zip(asked.instances, asked.passes_on, strict=True):
            task = TASKS[instance.task]
            answer = rule_answer(report, instance, last=not passes_on)
            common = {"report_id": report.report_id, "task": task.name, "model_id": rules_model_id(),
                      "prompt_id": rules_prompt_id(task.name), "prompt_sha256": rule_tables_sha256(), "run_id": run_id}
            if answer is not None:
                counts.rules_answered += 1
                counts.outputs_valid += 1
                rows += [(task.table, row) for row in answer_rows(task, answer.result, answer.raw, answer.evidence,
                                                                  instance, report, common)]
            elif passes_on:
                counts.cascaded += 1
                left.append(instance)
            else:
                counts.outputs_invalid += 1
                rows.append((task.table, invalid_row(task, instance, report, common, None, NO_ANSWER)))
        return Answered(rows, left)


class RulesKind(ModelKind):
    name = RULES
    options = RulesEntry
    passes_on = True
    eager = True
    tasks = RULE_TASKS

    def model_id(self, entry: RulesEntry) -> str:
        return rules_model_id()

    def load(self, entry: RulesEntry, load_model: Callable | None = None, shots: Sequence[Shot] = ()) -> RuleAnswerer:
        """The rules take no examples: ``shots`` leave their answers as they are."""
        return RuleAnswerer()
