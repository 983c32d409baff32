"""Shared fixtures: paths, the CLI run in process, and the CLI in a real process where that is the point."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from radlite.evidence import Evidence
from radlite_cli.main import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_REPORTS = os.path.join(ROOT, "sample_data", "reports")
QUESTIONS = os.path.join(ROOT, "sample_data", "questions.yaml")
#: The published prompts (facts: system prompt, task prompts, routes), copied from
#: ../shared/reference/radlite-published-prompts.json so the prompt-bytes tests run in every clone.
REFERENCE = os.path.join(ROOT, "tests", "fixtures", "radlite-published-prompts.json")
SHARED_REFERENCE = os.path.join(ROOT, "..", "shared", "reference", "radlite-published-prompts.json")


@pytest.fixture
def sample_reports_dir():
    return SAMPLE_REPORTS


def run_cli(*args, env=None):
    """Run ``radlite ARGS`` in this process (click's CliRunner); returns its Result (exit_code, stdout, stderr)."""
    return CliRunner(env=env).invoke(cli, [str(a) for a in args], catch_exceptions=False)


def run_cli_process(*args, env=None, timeout=600):
    """Run ``radlite ARGS`` in a new process, for tests where a real process is the point (kill, lock)."""
    return subprocess.run([sys.executable, "-m", "radlite_cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)


def evidence_at(text: str, words: str) -> Evidence:
    """The evidence of the first copy of ``words`` in ``text`` (what a value pointing at them carries)."""
    start = text.index(words)
    return Evidence(start, start + len(words))
