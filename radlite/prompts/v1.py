"""``radlite-v1``: report first, task tag last, so all tasks of one report share a prefix evaluated once.

    <|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nReport:\n{report}<|im_end|>\n
    <|im_start|>assistant\n[{task}]\n{instruction, NLI hypothesis or QA question, if any}\n{answer}

The answer is the task's compact answer format, decoded greedily under the task's grammar.
"""

from __future__ import annotations

from radlite.prompts.base import Data, Prompt, PromptProfile, assemble, chatml
from radlite.report import Report
from radlite.tasks.base import Task, TaskInstance

SYSTEM = "You are an expert radiologist. Read the report and answer the task exactly in the requested format."
TEMPERATURE = 0.0


class V1Profile(PromptProfile):
    name = "radlite-v1"

    def render(self, task: Task, instance: TaskInstance, report: Report) -> Prompt:
        """System, the report as the user turn, then the assistant turn opened with the task tag.

        Everything up to the task tag is the same for all tasks of a report, so after the first task
        the model only evaluates the few tokens of each further tag (and the NLI/QA instruction).
        """
        answer = task.answer_format(instance)
        instruction = ("\n", Data(instance.instruction)) if instance.instruction else ()
        text, spans = assemble(*chatml(SYSTEM, "Report:\n", Data(task.visible_text(report))), f"[{task.name}]",
                               *instruction, "\n")
        return Prompt(text=text, prompt_id=self.prompt_id(task), max_tokens=answer.max_tokens,
                      stop=("<|im_end|>",) + answer.stop, temperature=TEMPERATURE, grammar=answer.grammar,
                      data_spans=spans)
