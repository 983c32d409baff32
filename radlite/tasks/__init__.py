"""The task registry: the nine RadLite tasks, one object each, and the planner that applies them.

Each task declares its table (radlite.tasks.table.TaskTable) and what is looked up by its name; the
table contract, rules, support checks, review kit, exports and curation read them from ``TASKS``.
Adding a task is its module and one ``register`` (docs/architecture.md, "How to add a task").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from radlite.report import Report
from radlite.tasks.abnormality import AbnormalityDetection
from radlite.tasks.base import ParseError, Task, TaskInstance
from radlite.tasks.impression import ImpressionGeneration
from radlite.tasks.ner import RadiologyNer
from radlite.tasks.nli import RadiologyNli
from radlite.tasks.qa import RadiologyQa
from radlite.tasks.rads import RadsAssignment
from radlite.tasks.staging import MStaging, NStaging
from radlite.tasks.table import TaskTable
from radlite.tasks.temporal import TemporalComparison

#: In run order. Impression generation sees the report up to its impression, a prefix of what the
#: others see, so it runs first and every later task of the report only evaluates its own suffix.
TASKS: dict[str, Task] = {t.name: t for t in (
    ImpressionGeneration(), RadsAssignment(), AbnormalityDetection(), NStaging(), MStaging(), TemporalComparison(),
    RadiologyNer(), RadiologyNli(), RadiologyQa(),
)}


class _TaskNames(Sequence):
    """The registered tasks' names in run order, read from TASKS at each use (a task registered later is in it)."""

    def __getitem__(self, index):
        return tuple(TASKS)[index]

    def __len__(self) -> int:
        return len(TASKS)


TASK_NAMES: Sequence[str] = _TaskNames()


def task_tables(tasks: Iterable[Task] | None = None) -> dict[str, TaskTable]:
    """Each table the tasks write, once, in the order they first write it. Two tasks may write one table
    only by sharing its declaration (N and M staging); two declarations of one name raise ValueError."""
    tables: dict[str, TaskTable] = {}
    for task in TASKS.values() if tasks is None else tasks:
        claimed = tables.setdefault(task.table, task.writes)
        if claimed is not task.writes:
            raise ValueError(f"task {task.name!r} declares table {task.table!r} again: another task already "
                             "declares it (tasks writing one table share its TaskTable)")
    return tables


def register(task: Task) -> Task:
    """Add ``task`` to the registry, after the nine: it runs last and its table joins the contract. Its
    name must be new and its table its own (or a registered task's own declaration)."""
    if task.name in TASKS:
        raise ValueError(f"task {task.name!r} is registered already")
    task_tables([*TASKS.values(), task])
    TASKS[task.name] = task
    return task


task_tables()  # the nine's tables are checked when the registry is imported


def parse_task_selection(value: str) -> tuple[str, ...] | None:
    """'auto' -> None (each task where it applies); 'a,b' -> those tasks on every report."""
    if value == "auto":
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(TASK_NAMES)}")
    return names


class Plan(NamedTuple):
    """What runs on one report: task instances in run order, and why each other task does not."""

    instances: list[TaskInstance]
    skipped: dict[str, str]


def plan_tasks(report: Report, selected: tuple[str, ...] | None, questions: tuple = ()) -> Plan:
    """The plan for one report: with ``selected`` None each task where it applies, else those tasks."""
    plan = Plan([], {})
    for name, task in TASKS.items():
        reason = "not selected (--tasks)" if selected is not None and name not in selected else None
        if selected is None:
            reason = task.skip_reason(report)
        instances = [] if reason else task.instances(report, questions)
        if not reason and not instances:
            reason = "no instances (radiology_qa needs --questions)"
        if reason:
            plan.skipped[name] = reason
        plan.instances.extend(instances)
    return plan


__all__ = ["TASKS", "TASK_NAMES", "ParseError", "Plan", "Task", "TaskInstance", "TaskTable", "parse_task_selection",
           "plan_tasks", "register", "task_tables"]
