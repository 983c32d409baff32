"""Prompt profiles: how a task instance becomes the exact prompt text sent to a model.

``radlite-paper`` reproduces the published RadLite interface byte for byte; ``radlite-v1`` puts the
report first and the task tag last, so all tasks of one report share a prefix evaluated once:

    <|im_start|>system\n{V1_SYSTEM}<|im_end|>\n<|im_start|>user\nReport:\n{report}<|im_end|>\n
    <|im_start|>assistant\n[{task}]\n{instruction, NLI hypothesis or QA question, if any}\n{answer}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from radlite.report import Report
from radlite.tasks.base import PAPER, V1, Task, TaskInstance

PROFILES = (PAPER, V1)
CHATML = "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
V1_SYSTEM = "You are an expert radiologist. Read the report and answer the task exactly in the requested format."
V1_TEMPERATURE = 0.0


@lru_cache(maxsize=1)
def paper_interface() -> dict:
    """The published RadLite prompts, stop string, limits and routes (radlite/prompts/radlite_paper.json)."""
    with resources.files("radlite.prompts").joinpath("radlite_paper.json").open() as fh:
        return json.load(fh)


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
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def decoding_params(self) -> dict:
        return {"max_tokens": self.max_tokens, "stop": list(self.stop), "temperature": self.temperature,
                "grammar": self.grammar}


def chatml(system: str, user: str) -> str:
    return CHATML.format(system=system, user=user)


def render_paper(task: Task, instance: TaskInstance) -> Prompt:
    spec = paper_interface()
    user = spec["task_prompts"][task.name].replace("{report}", instance.paper_input)
    decoding = task.decoding(PAPER, instance)
    return Prompt(text=chatml(spec["system_prompt"], user), prompt_id=task.prompt_id(PAPER),
                  max_tokens=decoding.max_tokens, stop=tuple(spec["stop"]), temperature=spec["temperature"],
                  grammar=decoding.grammar)


def render_v1(task: Task, instance: TaskInstance, report: Report) -> Prompt:
    """System, the report as the user turn, then the assistant turn opened with the task tag.

    Everything up to the task tag is the same for all tasks of a report, so after the first task
    the model only evaluates the few tokens of each further tag (and the NLI/QA instruction).
    """
    decoding = task.decoding(V1, instance)
    tag = f"[{task.name}]" + (f"\n{instance.instruction}" if instance.instruction else "")
    text = chatml(V1_SYSTEM, f"Report:\n{task.v1_report_text(report)}") + tag + "\n"
    return Prompt(text=text, prompt_id=task.prompt_id(V1), max_tokens=decoding.max_tokens,
                  stop=("<|im_end|>",) + decoding.stop, temperature=V1_TEMPERATURE, grammar=decoding.grammar)


def render_prompt(profile: str, task: Task, instance: TaskInstance, report: Report) -> Prompt:
    if profile == PAPER:
        return render_paper(task, instance)
    if profile == V1:
        return render_v1(task, instance, report)
    raise ValueError(f"unknown prompt profile {profile!r}; known: {', '.join(PROFILES)}")
