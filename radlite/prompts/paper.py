"""``radlite-paper``: the published RadLite interface, byte for byte, so the published GGUFs run unchanged.

Template, system prompt, stop string, temperature and token limits come from the packaged copy of
the published interface (radlite_paper.json).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from radlite.prompts.base import Data, Prompt, PromptProfile, assemble, chatml
from radlite.report import Report
from radlite.tasks.base import Task, TaskInstance

#: Templates that lead into a phrase of their own need their own answer grammar: the published
#: n_staging prompt ends in "Lymph node involvement:" and its answers read "Positive. N staging: N2".
_LEAD_IN_GRAMMARS = {
    "n_staging": 'root ::= " "? ("Positive" | "Negative") ". N staging: " ("N0" | "N1" | "N2" | "N3")\n',
}


@lru_cache(maxsize=1)
def paper_interface() -> dict:
    """The published RadLite prompts, stop string, limits and routes (radlite/prompts/radlite_paper.json)."""
    with resources.files("radlite.prompts").joinpath("radlite_paper.json").open() as fh:
        return json.load(fh)


class PaperProfile(PromptProfile):
    """The published template per task; classification tasks decode under the task's label grammar."""

    name = "radlite-paper"

    def render(self, task: Task, instance: TaskInstance, report: Report) -> Prompt:
        spec = paper_interface()
        before, _, after = spec["task_prompts"][task.name].partition("{report}")
        text, spans = assemble(*chatml(spec["system_prompt"], before, Data(instance.input_text), after))
        max_tokens = spec["task_max_tokens"].get(task.name, spec["default_max_tokens"])
        grammar = _LEAD_IN_GRAMMARS.get(task.name)
        if grammar is None and task.classification:
            grammar = task.answer_format(instance).grammar
        return Prompt(text=text, prompt_id=self.prompt_id(task), max_tokens=max_tokens, stop=tuple(spec["stop"]),
                      temperature=spec["temperature"], grammar=grammar, data_spans=spans)
