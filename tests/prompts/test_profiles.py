"""Prompt profiles are one registry: a new profile renders every task without touching a task module."""

import json
import os

import pytest
import yaml
from conftest import REFERENCE, ROOT, SHARED_REFERENCE

from radlite.prompts import (
    PROFILES,
    Prompt,
    PromptProfile,
    assemble,
    chatml,
    get_profile,
    register_profile,
    render_prompt,
)
from radlite.prompts.paper import paper_interface
from radlite.report import build_report
from radlite.tasks import TASKS, plan_tasks
from radlite.tasks.qa import Question

REPORT = build_report("t", "r1", "EXAMINATION: CT CHEST\nHISTORY: lung cancer staging\nCOMPARISON: CT from ___.\n"
                                 "FINDINGS: New 2 cm nodule. Enlarged hilar node.\n"
                                 "IMPRESSION: New nodule. Nodal disease.")
QUESTIONS = (Question(id="q1", question="Is there a nodule?", choices=("yes", "no")),)


class TerseProfile(PromptProfile):
    """A toy profile: plain text, task name and input only, the task's own answer format."""

    name = "terse-test"

    def render(self, task, instance, report):
        answer = task.answer_format(instance)
        text, _ = assemble(*chatml("Answer tersely.", f"{task.name}: {instance.input_text}"))
        return Prompt(text=text, prompt_id=self.prompt_id(task), max_tokens=answer.max_tokens, stop=answer.stop,
                      temperature=0.0, grammar=answer.grammar)


@pytest.fixture
def terse_profile():
    profile = register_profile(TerseProfile())
    yield profile
    PROFILES.pop(profile.name)


def test_a_third_profile_registered_in_the_test_renders_all_nine_tasks(terse_profile):
    instances = plan_tasks(REPORT, tuple(TASKS), QUESTIONS).instances
    assert {i.task for i in instances} == set(TASKS)
    for instance in instances:
        prompt = render_prompt("terse-test", TASKS[instance.task], instance, REPORT)
        assert prompt.text.startswith("<|im_start|>system\nAnswer tersely.")
        assert f"{instance.task}: " in prompt.text
        assert prompt.prompt_id == f"terse-test/{instance.task}@1"
        assert prompt.max_tokens > 0


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(ValueError, match="radlite-paper"):
        get_profile("nope")


def test_paper_profile_takes_limits_and_stop_from_the_published_interface():
    spec = paper_interface()
    paper = get_profile("radlite-paper")
    for instance in plan_tasks(REPORT, tuple(TASKS), QUESTIONS).instances:
        prompt = paper.render(TASKS[instance.task], instance, REPORT)
        assert prompt.max_tokens == spec["task_max_tokens"].get(instance.task, spec["default_max_tokens"])
        assert prompt.stop == tuple(spec["stop"]) and prompt.temperature == spec["temperature"]
        # classification tasks decode under a grammar, free-text tasks do not
        assert (prompt.grammar is not None) == TASKS[instance.task].classification


def test_v1_profile_shares_one_report_prefix_across_tasks():
    v1 = get_profile("radlite-v1")
    prompts = [v1.render(TASKS[i.task], i, REPORT) for i in plan_tasks(REPORT, tuple(TASKS), QUESTIONS).instances
               if i.task != "impression_generation"]
    prefix = os.path.commonprefix([p.text for p in prompts])
    assert prefix.endswith("<|im_start|>assistant\n[") and REPORT.text in prefix


def test_packaged_paper_interface_matches_the_published_reference():
    spec, ours = json.load(open(REFERENCE)), paper_interface()
    for key in ("system_prompt", "stop", "temperature", "default_max_tokens", "task_max_tokens", "task_prompts",
                "task_routes"):
        assert ours[key] == spec[key], key


def test_the_reference_fixture_is_the_published_file():
    """tests/fixtures holds a byte-for-byte copy of the published prompts (checked where both exist)."""
    if not os.path.exists(SHARED_REFERENCE):
        pytest.skip("../shared/reference is not here to compare the fixture with")
    assert open(REFERENCE, "rb").read() == open(SHARED_REFERENCE, "rb").read()


def test_builtin_paper_routing_follows_the_published_task_routes():
    """radlite_paper.yaml restates the published routes and file names; they must not drift apart."""
    spec = paper_interface()
    with open(os.path.join(ROOT, "radlite", "routing", "radlite_paper.yaml")) as fh:
        table = yaml.safe_load(fh)
    assert table["tasks"] == spec["task_routes"]
    assert {k: m["path"] for k, m in table["models"].items()} == spec["model_files"]
    assert all(m["profile"] == spec["profile"] for m in table["models"].values())
