"""A stand-in llama.cpp model whose behaviour a test picks through $RADLITE_FAKE_MODEL, and a script entry
that runs the real ``radlite`` command with it: for tests where a real process is the point (a model that
kills its process, worker processes). Worker processes import this module by name (PYTHONPATH=tests)."""

from __future__ import annotations

import ctypes
import json
import os
import sys

import radlite_cli  # noqa: F401 - first, as the radlite command does: it silences Beam's import noise

# isort: split
import pipelines.run
from pipelines.process import RecordProcessor
from radlite.inference.batch import Completion, GroupCost

BEHAVIOUR = "RADLITE_FAKE_MODEL"
ROUTING = """name: fake
models:
  fake:
    path: /nowhere/fake-model.gguf
    n_ctx: 4096
tasks:
  n_staging: fake
"""


#: With behaviour 'scripted': a JSON object, task name -> the answer the model gives to that task's prompts.
SCRIPT = "RADLITE_FAKE_ANSWERS"


def scripted_answer(prompt) -> str:
    """The answer $RADLITE_FAKE_ANSWERS gives the task whose tag ('[n_staging]') the prompt carries."""
    answers = json.loads(os.environ.get(SCRIPT, "{}"))
    return next((a for task, a in answers.items() if f"[{task}]" in prompt.text), "???")


class FakeModel:
    """Answers ``N1`` to every prompt ('ok'), each task's answer of $RADLITE_FAKE_ANSWERS ('scripted'),
    fails every call ('fail'), or dies of SIGSEGV reading address 0 ('segfault')."""

    def __init__(self, entry):
        self.entry, self.identity = entry, {"fake": entry.path}

    def generate_groups(self, groups):
        behaviour = os.environ.get(BEHAVIOUR, "ok")
        if behaviour == "segfault":  # a real one, in this thread, as a fault in native code is
            ctypes.string_at(0)
        if behaviour == "fail":
            return [(RuntimeError("fake llama.cpp failure"), GroupCost()) for _ in groups]
        if behaviour == "scripted":
            return [([Completion(text=scripted_answer(p), prompt_tokens=10, completion_tokens=1) for p in prompts],
                     GroupCost()) for prompts in groups]
        return [([Completion(text="N1", prompt_tokens=10, completion_tokens=1) for _ in prompts], GroupCost())
                for prompts in groups]


class FakeModelProcessor(RecordProcessor):
    """The pipeline's record processor with FakeModel as every routing entry's model."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.load_model = FakeModel


def main() -> None:
    """``radlite ARGS`` with the fake model, as ``python -c "import model_fakes; model_fakes.main()" ARGS``."""
    pipelines.run.RecordProcessor = FakeModelProcessor
    from radlite_cli.main import main as radlite_main

    sys.argv[0] = "radlite"
    radlite_main()
