import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_REPORTS = os.path.join(ROOT, "sample_data", "reports")


@pytest.fixture
def sample_reports_dir():
    return SAMPLE_REPORTS


def run_cli(*args, env=None, timeout=600):
    """Run the installed radlite CLI in a subprocess; returns CompletedProcess."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "radlite.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)
