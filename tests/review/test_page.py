"""The review page in a real browser (Debian's Chromium driven by Playwright): mark verdicts with clicks and
keys, reload (progress kept), export CSV and JSON, import them, and check the figures against a hand
computation for that stratified sample. Skips without the browser, unless CI is set."""

import json
import os
import re

import pytest
from conftest import run_cli
from review_helpers import CHROMIUM, CHROMIUM_ARGS, browser_or_skip, draw_sample, rule_out

from radlite.review.views import is_claim
from radlite.store import OutputStore

#: The verdict given to the k-th item of the sample, and how: a click on odd positions, a key on even ones.
PLAN = ["correct", "incorrect", "correct", "cant_tell", "correct", "correct"] * 2
KEYS = {"correct": "c", "incorrect": "2", "cant_tell": "t"}


@pytest.fixture(scope="module")
def browser():
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _mark(page, k):
    verdict = PLAN[k]
    if verdict == "incorrect":  # type the right value first: e focuses the field, Enter leaves it
        page.keyboard.press("e")
        page.keyboard.type("positive")
        page.keyboard.press("Enter")
    if k % 2:
        page.click(f"button[data-verdict='{verdict}']")
    else:
        page.keyboard.press(KEYS[verdict])


def _hand_precision(store, sample):
    """The table's precision written out: each claim stratum's correct share weighted by its rows among the
    reviewed claim strata (no cant_tell-only stratum counts)."""
    rows = store.read_table("abnormalities").to_pylist()
    per_stratum = {}
    for item, verdict in zip(sample["items"], PLAN):
        if is_claim(item["status"]) and verdict != "cant_tell":
            hits = per_stratum.setdefault((item["label"], item["status"]), [])
            hits.append(verdict == "correct")
    size = {key: sum(1 for r in rows if (r["finding"], r["status"]) == key) for key in per_stratum}
    total = sum(size.values())
    return sum(size[key] / total * sum(hits) / len(hits) for key, hits in per_stratum.items())


def test_review_page_round_trip(browser, tmp_path):
    out = rule_out(str(tmp_path / "out"))
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "12", "--seed", "5", "--table", "abnormalities")
    items = sample["items"]
    assert len(items) == len(PLAN) and any(is_claim(i["status"]) for i in items)
    store = OutputStore(out)
    texts = {r["report_id"]: r["text"] for r in store.read_table("reports").to_pylist()}
    url = "file://" + str(tmp_path / "page" / "review.html")

    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    assert page.inner_text("#progress") == f"0 / {len(items)} reviewed"

    # the evidence span is highlighted in the report text
    k, item = next((k, i) for k, i in enumerate(items) if i["evidence_start"] is not None)
    page.click(f"#list li[data-index='{k}']")
    assert page.inner_text("mark") == texts[item["report_id"]][item["evidence_start"]:item["evidence_end"]]
    assert page.inner_text("#value") == item["value"] and page.inner_text("#model") == item["model_id"]
    page.click("#list li[data-index='0']")

    for k in range(6):
        _mark(page, k)
    page.reload()
    assert page.inner_text("#progress") == f"6 / {len(items)} reviewed"
    assert page.inner_text("#value") == items[6]["value"]  # opens at the first item not reviewed
    classes = [page.get_attribute(f"#list li[data-index='{k}']", "class").split()[0] for k in range(6)]
    assert classes == PLAN[:6]
    for k in range(6, len(PLAN)):
        _mark(page, k)
    assert page.inner_text("#progress") == f"{len(items)} / {len(items)} reviewed"

    exports = {}
    for kind in ("csv", "json"):
        with page.expect_download() as download:
            page.click(f"#export-{kind}")
        exports[kind] = str(tmp_path / f"verdicts.{kind}")
        download.value.save_as(exports[kind])
    assert errors == []
    context.close()

    result = run_cli("review", "import", out, exports["csv"], "--reviewer", "ana")
    assert result.exit_code == 0, result.output
    stored = {v["item_id"]: v for v in store.read_table("review_verdicts").to_pylist()}
    assert [stored[i["item_id"]]["verdict"] for i in items] == PLAN
    assert {stored[i["item_id"]]["corrected_value"] for i, v in zip(items, PLAN) if v == "incorrect"} == {"positive"}

    second = run_cli("review", "import", out, exports["json"], "--reviewer", "ben")
    assert second.exit_code == 0, second.output
    assert f"agreement ana / ben: {len(items)} items, observed 100.0%" in second.output

    report = run_cli("review", "report", out, "--out", str(tmp_path / "report"))
    assert report.exit_code == 0, report.output
    markdown = open(tmp_path / "report" / "report.md").read()
    line = next(x for x in markdown.splitlines() if x.startswith("| abnormalities | (all) | precision |"))
    estimate = re.split(r"\s*\|\s*", line)[4].split("%")[0]
    assert float(estimate) == pytest.approx(100 * _hand_precision(store, sample), abs=0.05)
    assert os.path.getsize(tmp_path / "report" / "abnormalities.png") > 1000
    assert json.load(open(exports["json"]))["sample_id"] == sample["sample_id"]
