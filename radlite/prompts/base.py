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


class Data(str):
    """Text that came from a report or a user's file: part of a prompt, never parsed for control tokens."""


@dataclass(frozen=True)
class Prompt:
    """A fully rendered prompt plus how to decode its answer."""

    text: str
    prompt_id: str
    max_tokens: int
    stop: tuple[str, ...]
    temperature: float
    grammar: str | None
    #: (start, end) character ranges of ``text`` that are data (report text, questions): the engine
    #: tokenizes them as plain text, so a report cannot write the template's control tokens.
    data_spans: tuple[tuple[int, int], ...] = ()

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    def decoding_params(self) -> dict:
        return {"max_tokens": self.max_tokens, "stop": list(self.stop), "temperature": self.temperature,
                "grammar": self.grammar}


def assemble(*parts: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Join prompt parts; returns the text and the spans of its ``Data`` parts.

    Spaces that end the markup before a data part are counted with the data, so the text splits
    where a tokenizer's pre-tokenizer would split anyway.
    """
    text, spans = "", []
    for part in parts:
        if isinstance(part, Data) and part:
            spans.append((len(text.rstrip(" ")), len(text) + len(part)))
        text += part
    return text, tuple(spans)


def chatml(system: str, *user: str) -> list[str]:
    """The parts of a ChatML conversation up to the opened assistant turn."""
    return ["<|im_start|>system\n", system, "<|im_end|>\n<|im_start|>user\n", *user,
            "<|im_end|>\n<|im_start|>assistant\n"]


class PromptProfile:
    """One prompt format. Subclasses set ``name`` and implement ``render``; register them in
    ``radlite.prompts.PROFILES``."""

    name: str = ""

    def render(self, task: Task, instance: TaskInstance, report: Report) -> Prompt:
        raise NotImplementedError

    def prompt_id(self, task: Task) -> str:
        """Stored on every row: which profile and which version of the task's prompt made it."""
        return f"{self.name}/{task.name}@{task.version}"
