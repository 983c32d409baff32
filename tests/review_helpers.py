"""An OUT to review (rule-routed tasks only: no model, seconds), a sample drawn from it, and the browser."""

import json
import os
import shutil

import pytest
from conftest import SAMPLE_REPORTS, run_cli

RULE_TASKS = "abnormality_detection"  # rule-answered: no model, seconds
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def rule_out(out: str, inputs: str = SAMPLE_REPORTS + "/*") -> str:
    """`radlite run` over the sample reports with the rule-answered tasks."""
    result = run_cli("run", inputs, "--out", out, "--tasks", RULE_TASKS)
    assert result.exit_code == 0, result.output
    return out


def draw_sample(out: str, directory: str, *args) -> dict:
    """`radlite review OUT --out DIR ARGS`; returns the sample manifest."""
    result = run_cli("review", out, "--out", directory, *args)
    assert result.exit_code == 0, result.output
    with open(os.path.join(directory, "sample.json")) as fh:
        return json.load(fh)


def write_csv(path: str, rows: list[dict]) -> str:
    """A verdict file in the page's CSV export format."""
    import csv

    columns = ["sample_id", "out_id", "item_id", "verdict", "corrected_value", "reviewed_at"]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def browser_or_skip():
    """Playwright's sync API and Debian's Chromium; skips when either is missing, fails instead under CI."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("playwright (pip install -e '.[browser]')")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing.append(f"{CHROMIUM} (scripts/install-browser.sh)")
    if missing:
        message = "review page browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI is set: the browser must be installed)")
        pytest.skip(message)
    return sync_playwright
