"""The task options resolved into what the record processor needs: routing, selection, questions."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.options import TaskOptions
from radlite.routing import RoutingTable, load_routing
from radlite.tasks import TASK_NAMES, parse_task_selection
from radlite.tasks.qa import load_questions


@dataclass(frozen=True)
class TaskStage:
    """The task options resolved: routing table loaded and verified, selection and questions parsed."""

    routing: RoutingTable
    selected: tuple[str, ...] | None
    questions: tuple
    task_names: list[str]

    @classmethod
    def resolve(cls, options: TaskOptions) -> TaskStage | None:
        """None for --tasks none; raises ValueError / FileNotFoundError for bad options."""
        if options.tasks == "none":
            return None
        selected = parse_task_selection(options.tasks)
        routing = load_routing(options.routing, options.models_dir, verify=not options.allow_unvalidated)
        questions = load_questions(options.questions) if options.questions else ()
        names = list(selected) if selected is not None else list(TASK_NAMES)
        return cls(routing, selected, questions, names)
