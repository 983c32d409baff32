"""Choosing and building the task stage of a run (none until the task registry lands)."""

from __future__ import annotations


def resolve_task_stage(*, tasks: str, routing: str, models_dir, questions, allow_unvalidated):
    """(factory or None, task names) for the --tasks value."""
    if tasks == "none":
        return None, []
    raise ValueError("model tasks are not available yet; run with --tasks none")
