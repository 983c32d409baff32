"""What a prompt profile is: the contract every profile module implements, and the prompt it returns.

A profile turns one task instance of one report into the exact text sent to a model plus how to
decode the answer. Tasks know nothing of profiles; a profile reads only task facts (name, input
text, visible report text, instruction, answer format).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

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


#: What closes a ChatML turn.
TURN_END = "<|im_end|>\n"


def parts_of(prompt: Prompt, start: int = 0, end: int | None = None) -> list[str]:
    """``prompt.text[start:end]`` as the parts ``assemble`` joins: markup as ``str``, data spans as ``Data``."""
    end = len(prompt.text) if end is None else end
    parts, pos = [], start
    for s, e in prompt.data_spans:
        s, e = max(s, start), min(e, end)
        if s < e:
            parts += [prompt.text[pos:s], Data(prompt.text[s:e])]
            pos = e
    return parts + [prompt.text[pos:end]]


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

    def few_shot(self, prompt: Prompt, shots: Sequence[tuple[Prompt, str]]) -> Prompt:
        """``prompt`` with solved examples (each a prompt of this profile and its answer) as earlier
        ChatML turns after the system turn. The examples' data and answers are data spans like the
        report's: a control token in any of them stays plain text."""
        if not shots:
            return prompt
        cut = prompt.text.index(TURN_END) + len(TURN_END)
        examples = [part for shot, answer in shots
                    for part in (*parts_of(shot, shot.text.index(TURN_END) + len(TURN_END)), Data(answer), TURN_END)]
        text, spans = assemble(*parts_of(prompt, 0, cut), *examples, *parts_of(prompt, cut))
        return replace(prompt, text=text, data_spans=spans)

    def prompt_id(self, task: Task) -> str:
        """Stored on every row: which profile and which version of the task's prompt made it."""
        return f"{self.name}/{task.name}@{task.version}"
