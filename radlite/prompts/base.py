"""What a prompt profile is: the contract every profile module implements, and the prompt it returns.

A profile turns one task instance of one report into the exact text sent to a model plus how to
decode the answer. Tasks know nothing of profiles; a profile reads only task facts (name, input
text, visible report text, instruction, answer format).
"""

from __future__ import annotations

from dataclasses import dataclass

from radlite.hashing import text_sha256
from radlite.report import Report
from radlite.tasks.base import Task, TaskInstance

CHATML = "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


@dataclass(frozen=True)
class Prompt:
    """A fully rendered prompt plus how to decode its answer."""

    text: str
    prompt_id: str
    max_tokens: int
    stop: tuple[str, ...]
    temperature: float
    grammar: str | None

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    def decoding_params(self) -> dict:
        return {"max_tokens": self.max_tokens, "stop": list(self.stop), "temperature": self.temperature,
                "grammar": self.grammar}


def chatml(system: str, user: str) -> str:
    """A ChatML conversation up to the opened assistant turn."""
    return CHATML.format(system=system, user=user)


class PromptProfile:
    """One prompt format. Subclasses set ``name`` and implement ``render``; register them in
    ``radlite.prompts.PROFILES``."""

    name: str = ""

    def render(self, task: Task, instance: TaskInstance, report: Report) -> Prompt:
        raise NotImplementedError

    def prompt_id(self, task: Task) -> str:
        """Stored on every row: which profile and which version of the task's prompt made it."""
        return f"{self.name}/{task.name}@{task.version}"
