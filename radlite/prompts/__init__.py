"""The prompt-profile registry: one module per profile, one registration here.

Adding a profile = a module with a ``PromptProfile`` subclass + one line in ``PROFILES`` (or
``register_profile`` at run time, e.g. from a plugin or a test).
"""

from __future__ import annotations

from radlite.prompts.base import Data, Prompt, PromptProfile, assemble, chatml
from radlite.prompts.paper import PaperProfile
from radlite.prompts.v1 import V1Profile
from radlite.registry import Registry
from radlite.report import Report
from radlite.tasks.base import Task, TaskInstance

PROFILES: Registry[PromptProfile] = Registry("prompt profile", (PaperProfile(), V1Profile()))
#: The profile our own adapters are trained on and new routing entries use.
DEFAULT_PROFILE = V1Profile.name
#: Make a profile available by its name to routing tables and training.
register_profile = PROFILES.register
get_profile = PROFILES.named


def render_prompt(profile: str, task: Task, instance: TaskInstance, report: Report) -> Prompt:
    """The exact prompt for ``instance`` under the named profile."""
    return get_profile(profile).render(task, instance, report)


__all__ = ["DEFAULT_PROFILE", "PROFILES", "Data", "Prompt", "PromptProfile", "assemble", "chatml",
           "get_profile", "register_profile",
           "render_prompt"]
