"""The review page in a real browser (Debian's Chromium driven by Playwright): a reviewer types a name, marks
values with clicks and keys, undoes, reloads (progress kept), switches reviewer (a separate state), exports
CSV and JSON (with the reviewer), imports them, and the figures match a hand computation. Enter/Space never
mark an item the reviewer has not seen; the question is asked in words with its rubric; the answer and the
buttons stay pinned while a long report scrolls. Browser tests skip without the browser, unless CI is set;
the wording file's checks run everywhere."""

import csv
import json
import os
import re

import pytest
from conftest import QUESTIONS, run_cli
from review_helpers import CHROMIUM, CHROMIUM_ARGS, browser_or_skip, draw_sample, rule_out

from radlite.review.page import DEFAULT_WORDING, SiteWording, WordingRefused, load_wording, merge_wording
from radlite.review.views import VIEWS, is_claim
from radlite.store import OutputStore

#: The verdict given to the k-th item of the page's walk, and how: a click on odd positions, a key on even ones.
PLAN = ["correct", "incorrect", "correct", "cant_tell", "correct", "correct"] * 2
KEYS = {"correct": "c", "incorrect": "2", "cant_tell": "t"}

#: A synthetic chest radiograph report (written for this test, no patient's), long enough that its last
#: lines are far below the first screen: the finding it states sits at the end.
LONG_REPORT = "\n".join(
    ["EXAMINATION: CHEST RADIOGRAPH PA AND LATERAL", "", "INDICATION: Cough. Synthetic report for a page test.",
     "", "COMPARISON: None.", "", "FINDINGS:"]
    + [f"Line {n}: the lungs are clear in this zone; the bony thorax here is intact." for n in range(1, 71)]
    + ["", "IMPRESSION: Small right pleural effusion."])


@pytest.fixture(scope="module")
def browser():
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def rules_out(tmp_path_factory):
    """The sample reports through the rule-answered tasks."""
    return rule_out(str(tmp_path_factory.mktemp("rules") / "out"))


@pytest.fixture(scope="module")
def long_out(tmp_path_factory):
    """The long synthetic report through abnormality detection (rules) and the registry questions (the
    embedded model: the embedded-model routing, since the default routes QA nowhere)."""
    root = tmp_path_factory.mktemp("long")
    (root / "in").mkdir()
    (root / "in" / "long-synthetic-cxr.txt").write_text(LONG_REPORT)
    out = str(root / "out")
    result = run_cli("run", str(root / "in"), "--out", out, "--tasks", "abnormality_detection,radiology_qa",
                     "--questions", QUESTIONS, "--routing", "embedded-model", "--quiet")
    assert result.exit_code == 0, result.output
    return out


def _open(browser, url, reviewer=None, **context_args):
    """A fresh browser profile on the page; with ``reviewer`` typed into the name field."""
    context = browser.new_context(accept_downloads=True, **context_args)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    if reviewer:
        _reviewer(page, reviewer)
    return context, page


def _reviewer(page, name):
    page.fill("#reviewer", name)
    page.press("#reviewer", "Enter")


def _done(page) -> int:
    return int(page.inner_text("#progress").split(" / ")[0])


def _walk(page) -> list[str]:
    """The item ids in the order the page shows them (report by report)."""
    return page.evaluate("items.map((item) => item.item_id)")


def _verdicts_shown(page) -> list[str]:
    """The verdict each item's dot in the report list shows, in walk order ('' for none)."""
    return page.evaluate("""[...document.querySelectorAll('#list .dot')]
        .sort((a, b) => a.dataset.index - b.dataset.index)
        .map((d) => ['correct', 'incorrect', 'cant_tell'].find((v) => d.classList.contains(v)) || '')""")


def _mark(page, k, verdict=None):
    verdict = verdict or PLAN[k]
    if verdict == "incorrect":  # type the right value first: e focuses the field, Enter leaves it
        page.keyboard.press("e")
        page.keyboard.type("positive")
        page.keyboard.press("Enter")
    if k % 2:
        page.click(f"button[data-verdict='{verdict}']")
    else:
        page.keyboard.press(KEYS[verdict])


def _before_unload_blocked(page) -> bool:
    """Whether the page asks before it is closed (its beforeunload handler cancels the event)."""
    return page.evaluate("""() => { const e = new Event('beforeunload', {cancelable: true});
                                    window.dispatchEvent(e); return e.defaultPrevented; }""")


def _export(page, kind, path) -> str:
    with page.expect_download() as download:
        page.click(f"#export-{kind}")
    download.value.save_as(path)
    return str(path)


def _hand_precision(store, sample, plan):
    """The table's precision written out: each claim stratum's correct share weighted by its rows among the
    reviewed claim strata (no cant_tell-only stratum counts)."""
    rows = store.read_table("abnormalities").to_pylist()
    per_stratum = {}
    for item in sample["items"]:
        if is_claim(item["status"]) and plan[item["item_id"]] != "cant_tell":
            hits = per_stratum.setdefault((item["label"], item["status"]), [])
            hits.append(plan[item["item_id"]] == "correct")
    size = {key: sum(1 for r in rows if (r["finding"], r["status"]) == key) for key in per_stratum}
    total = sum(size.values())
    return sum(size[key] / total * sum(hits) / len(hits) for key, hits in per_stratum.items())


def test_review_page_round_trip(browser, rules_out, tmp_path):
    out = rules_out
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "12", "--seed", "5", "--table", "abnormalities")
    assert len(sample["items"]) == len(PLAN) and any(is_claim(i["status"]) for i in sample["items"])
    store = OutputStore(out)
    texts = {r["report_id"]: r["text"] for r in store.read_table("reports").to_pylist()}
    url = "file://" + str(tmp_path / "page" / "review.html")

    context, page = _open(browser, url)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    # no reviewer name yet: a verdict key does nothing and the name field asks for one
    page.keyboard.press("c")
    assert _done(page) == 0 and "missing" in page.get_attribute("#reviewer", "class")
    _reviewer(page, "ana")
    assert page.inner_text("#progress") == f"0 / {len(PLAN)} reviewed"
    walk = _walk(page)
    by_id = {i["item_id"]: i for i in sample["items"]}
    items = [by_id[i] for i in walk]
    assert sorted(walk) == sorted(by_id)
    # one report at a time: the walk never comes back to a report it has left
    reports = [i["report_id"] for i in items]
    assert reports == sorted(reports, key=reports.index)

    # the evidence span is highlighted in the report text; the value's report shows all its sampled values
    k, item = next((k, i) for k, i in enumerate(items) if i["evidence_start"] is not None)
    page.click(f"#list li[data-report='{item['report_id']}']")
    page.click(f"#values button[data-index='{k}']")
    assert page.inner_text("mark") == texts[item["report_id"]][item["evidence_start"]:item["evidence_end"]]
    assert page.locator("#values button").count() == reports.count(item["report_id"])
    page.click(f"#list li[data-report='{items[0]['report_id']}']")  # back to the first item not reviewed

    for k in range(6):
        _mark(page, k)
    # undo by the button: the last verdict goes and its item is shown again
    page.click("#undo")
    assert _done(page) == 5 and page.inner_text("#value") != "" and _verdicts_shown(page)[5] == ""
    # a wrong verdict on item 5, undone by the key, then the planned one
    _mark(page, 5, "cant_tell")
    assert _verdicts_shown(page)[5] == "cant_tell"
    page.keyboard.press("u")
    assert _verdicts_shown(page)[5] == "" and _done(page) == 5
    _mark(page, 5)
    # undo of a changed verdict restores the one before
    page.click(f"#list li[data-report='{items[0]['report_id']}']")
    page.click("#values button[data-index='0']")
    page.click("button[data-verdict='cant_tell']")
    assert _verdicts_shown(page)[0] == "cant_tell"
    page.keyboard.press("u")
    assert _verdicts_shown(page)[:6] == PLAN[:6]

    page.reload()
    assert page.input_value("#reviewer") == "ana"  # the last name used on this browser
    assert page.inner_text("#progress") == f"6 / {len(items)} reviewed"
    assert page.evaluate("items[current].item_id") == walk[6]  # opens at the first item not reviewed
    assert _verdicts_shown(page) == PLAN[:6] + [""] * 6
    assert not page.locator("#reminder").is_visible()
    for k in range(6, len(PLAN)):
        _mark(page, k)
    assert page.inner_text("#progress") == f"{len(items)} / {len(items)} reviewed"
    # done: the page asks for the export, and asks before it is closed unexported
    assert page.locator("#reminder").is_visible() and "Export CSV" in page.inner_text("#reminder")
    assert _before_unload_blocked(page)

    exports = {kind: _export(page, kind, tmp_path / f"verdicts.{kind}") for kind in ("csv", "json")}
    assert not page.locator("#reminder").is_visible() and not _before_unload_blocked(page)
    assert page.errors == []
    assert all(u.startswith(("file://", "blob:", "data:")) for u in requests), requests  # no network
    context.close()

    plan = dict(zip(walk, PLAN, strict=True))
    with open(exports["csv"], newline="", encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert {r["reviewer"] for r in exported} == {"ana"}
    assert {r["item_id"]: r["verdict"] for r in exported} == plan
    document = json.load(open(exports["json"]))
    assert document["reviewer"] == "ana" and document["sample_id"] == sample["sample_id"]
    assert {r["item_id"]: (r["reviewer"], r["verdict"]) for r in document["verdicts"]} == {
        i: ("ana", v) for i, v in plan.items()}

    result = run_cli("review", "import", out, exports["csv"])  # the file names its reviewer
    assert result.exit_code == 0, result.output
    assert "verdicts of ana" in result.output
    stored = {v["item_id"]: v for v in store.read_table("review_verdicts").to_pylist()}
    assert {i: stored[i]["verdict"] for i in walk} == plan
    assert {stored[i]["corrected_value"] for i, v in plan.items() if v == "incorrect"} == {"positive"}

    as_ben = tmp_path / "ben.json"  # a second reviewer who gave the same verdicts
    as_ben.write_text(json.dumps({**document, "reviewer": "ben",
                                  "verdicts": [{**r, "reviewer": "ben"} for r in document["verdicts"]]}))
    assert run_cli("review", "import", out, str(as_ben), "--reviewer", "ana").exit_code != 0  # not ben's name
    second = run_cli("review", "import", out, str(as_ben))
    assert second.exit_code == 0, second.output
    assert f"agreement ana / ben: {len(items)} items, observed 100.0%" in second.output

    report = run_cli("review", "report", out, "--out", str(tmp_path / "report"))
    assert report.exit_code == 0, report.output
    markdown = open(tmp_path / "report" / "report.md").read()
    line = next(x for x in markdown.splitlines() if x.startswith("| abnormalities | (all) | precision |"))
    estimate = re.split(r"\s*\|\s*", line)[4].split("%")[0]
    assert float(estimate) == pytest.approx(100 * _hand_precision(store, sample, plan), abs=0.05)
    assert os.path.getsize(tmp_path / "report" / "abnormalities.png") > 1000


def test_two_reviewers_on_one_browser_keep_separate_verdicts(browser, rules_out, tmp_path):
    draw_sample(rules_out, str(tmp_path / "page"), "--sample", "6", "--seed", "2", "--table", "abnormalities")
    context, page = _open(browser, "file://" + str(tmp_path / "page" / "review.html"), reviewer="ana")
    page.keyboard.press("c")
    page.keyboard.press("x")
    assert _verdicts_shown(page)[:3] == ["correct", "incorrect", ""]
    _reviewer(page, "ben")
    assert _done(page) == 0 and _verdicts_shown(page) == [""] * 6 and "reviewing as ben" in page.inner_text("#where")
    page.keyboard.press("t")
    _reviewer(page, "ana")
    assert _verdicts_shown(page)[:3] == ["correct", "incorrect", ""]
    _reviewer(page, "ben")
    page.reload()
    assert page.input_value("#reviewer") == "ben" and _verdicts_shown(page)[0] == "cant_tell" and _done(page) == 1
    path = _export(page, "csv", tmp_path / "ben.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["reviewer"], r["verdict"]) for r in rows] == [("ben", "cant_tell")]
    assert os.path.basename(path) == "ben.csv" and page.errors == []
    context.close()


def test_progress_from_before_reviewer_names_goes_to_the_first_name_typed(browser, rules_out, tmp_path):
    draw_sample(rules_out, str(tmp_path / "page"), "--sample", "4", "--seed", "4", "--table", "abnormalities")
    context, page = _open(browser, "file://" + str(tmp_path / "page" / "review.html"))
    page.evaluate("""localStorage.setItem(keyPrefix, JSON.stringify({[items[1].item_id]:
        {verdict: 'incorrect', corrected_value: null, reviewed_at: '2026-01-02T03:04:05Z'}}))""")
    page.reload()
    _reviewer(page, "ana")
    assert _verdicts_shown(page) == ["", "incorrect", "", ""]
    _reviewer(page, "ben")
    assert _done(page) == 0
    _reviewer(page, "ana")
    page.reload()
    assert _verdicts_shown(page) == ["", "incorrect", "", ""] and page.errors == []
    context.close()


def test_enter_and_space_never_mark_an_unseen_item(browser, rules_out, tmp_path):
    draw_sample(rules_out, str(tmp_path / "page"), "--sample", "6", "--seed", "3", "--table", "abnormalities")
    context, page = _open(browser, "file://" + str(tmp_path / "page" / "review.html"), reviewer="ana")
    walk = _walk(page)
    page.click("button[data-verdict='correct']")  # item 0 by the mouse; the page shows item 1
    assert page.evaluate("items[current].item_id") == walk[1]
    for key in ("Enter", "Space", "Enter"):
        page.keyboard.press(key)
    assert _done(page) == 1 and _verdicts_shown(page)[:2] == ["correct", ""]
    page.click("#next")  # a click on Next: the button is not left with the keyboard either
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert _done(page) == 1 and page.evaluate("items[current].item_id") == walk[2]
    # the reviewer puts the keyboard on a verdict button of the item in view: Enter acts on that item
    page.focus("button[data-verdict='incorrect']")
    page.keyboard.press("Enter")
    assert _done(page) == 2 and _verdicts_shown(page)[2] == "incorrect"
    assert page.evaluate("items[current].item_id") == walk[3]  # the next item not reviewed
    page.keyboard.press("Space")
    assert _done(page) == 2 and page.errors == []
    context.close()


def test_question_rubric_and_plain_words(browser, long_out, tmp_path):
    wording = tmp_path / "site-wording.yaml"
    wording.write_text("tables:\n  abnormalities:\n    question: Is {label} reported, and how?\n"
                       "words:\n  not_mentioned: not in the report\n")
    directory = tmp_path / "page"
    result = run_cli("review", long_out, "--out", str(directory), "--sample", "40", "--wording", str(wording))
    assert result.exit_code == 0, result.output
    store = OutputStore(long_out)
    asked = {r["question_id"]: r["question"] for r in store.read_table("qa_answers").to_pylist()}
    context, page = _open(browser, "file://" + str(directory / "review.html"), reviewer="ana")
    items = page.evaluate("items")
    tables = [i["table"] for i in items]
    assert "qa_answers" in tables and "abnormalities" in tables

    item = next(i for i in items if i["table"] == "abnormalities" and i["status"] == "not_mentioned")
    page.click(f"#values button[data-index='{items.index(item)}']")
    assert page.inner_text("#question") == f"Is {item['label']} reported, and how?"  # the site's question
    rubric = page.inner_text("#rubric")
    assert "absent = the report says it is not there" in rubric  # RadLite's rubric: the site kept it
    assert "not mentioned = the report does not speak of it at all" in rubric
    assert page.inner_text("#value") == "not in the report"  # the site's word for not_mentioned
    panel = page.inner_text("#panel")
    assert "made by the rules, version " in panel
    for jargon in ("model_id", "grounded", "not_mentioned", item["model_id"]):
        assert jargon not in panel
    assert "not in the report\nstored as not_mentioned" in page.inner_text("#legend")

    for item in (i for i in items if i["table"] == "qa_answers"):
        page.click(f"#values button[data-index='{items.index(item)}']")
        assert page.inner_text("#question") == asked[item["label"]]
        chip = page.inner_text(f"#values button[data-index='{items.index(item)}']")
        assert chip == f"{asked[item['label']]}: {item['value'] or '(none found)'}"  # the text, not the id
        assert "the answer is what the report says" in page.inner_text("#rubric")
    assert page.errors == []
    context.close()


def test_answer_and_buttons_stay_pinned_while_a_long_report_scrolls(browser, long_out, tmp_path):
    draw_sample(long_out, str(tmp_path / "page"), "--sample", "20", "--table", "abnormalities")
    context, page = _open(browser, "file://" + str(tmp_path / "page" / "review.html"), reviewer="ana",
                          viewport={"width": 1200, "height": 700})
    items = page.evaluate("items")
    effusion = next(i for i, x in enumerate(items) if x["label"] == "pleural effusion" and x["evidence_start"])
    page.click(f"#values button[data-index='{effusion}']")
    assert "pleural effusion" in page.inner_text("mark").lower() and items[effusion]["evidence_start"] > 3000
    section = page.locator("section#item")
    assert page.evaluate("$('item').scrollHeight > 2 * $('item').clientHeight")  # the report is long

    def in_view(selector):
        box = page.locator(selector).bounding_box()
        return box["y"] >= 0 and box["y"] + box["height"] <= 700

    panel = page.locator("#panel").bounding_box()
    mark = page.locator("mark").bounding_box()
    assert mark["y"] >= panel["y"] + panel["height"] and mark["y"] + mark["height"] <= 700  # not under the panel
    for where in ("0", "$('item').scrollHeight", "$('item').scrollHeight / 2"):
        section.evaluate(f"(el) => {{ el.scrollTop = {where}; }}")
        assert all(in_view(s) for s in ("#value", "#question", "button[data-verdict='correct']",
                                        "button[data-verdict='incorrect']", "button[data-verdict='cant_tell']"))
    assert page.evaluate("$('item').scrollTop") > 0
    page.click("button[data-verdict='correct']")  # still clickable after scrolling to the end
    assert _done(page) == 1 and page.errors == []
    context.close()


def test_default_wording_asks_about_every_reviewable_table():
    assert set(DEFAULT_WORDING.tables) == set(VIEWS)
    assert merge_wording(SiteWording(), "RadLite's wording") == DEFAULT_WORDING  # its placeholders are known
    assert load_wording(None) is DEFAULT_WORDING


@pytest.mark.parametrize(("text", "message"), [
    ("tables:\n  abnormality:\n    question: x\n", "no reviewable table 'abnormality'"),
    ("tables:\n  rads:\n    question: Which {system}?\n", "tables.rads.question names {system}; use {label}"),
    ("tables:\n  rads:\n    questoin: Which?\n", "tables.rads.questoin: Extra inputs are not permitted"),
    ("tables: [\n", "unreadable wording file"),
])
def test_wording_file_refused_in_one_line(tmp_path, rules_out, text, message):
    path = tmp_path / "wording.yaml"
    path.write_text(text)
    with pytest.raises(WordingRefused, match=re.escape(message)):
        load_wording(str(path))
    result = run_cli("review", rules_out, "--out", str(tmp_path / "page"), "--sample", "3", "--wording", str(path))
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "page" / "review.html")


def test_site_wording_keeps_what_it_leaves_out(tmp_path):
    path = tmp_path / "wording.json"
    path.write_text(json.dumps({"tables": {"entities": {"rubric": {"mention": "words naming the thing"}}},
                                "words": {"OBS-U": "observation, possible"}}))
    wording = load_wording(str(path))
    assert wording.tables["entities"].question == DEFAULT_WORDING.tables["entities"].question
    assert wording.tables["entities"].rubric == {"mention": "words naming the thing"}
    assert wording.words["OBS-U"] == "observation, possible"
    assert wording.words["ANAT-DP"] == "anatomy, definitely present"


def test_site_wording_reaches_the_page(tmp_path, rules_out):
    path = tmp_path / "wording.yaml"
    path.write_text("tables:\n  abnormalities:\n    question: \"Est-ce que le compte rendu d\u00e9crit {label} ?\"\n")
    result = run_cli("review", rules_out, "--out", str(tmp_path / "page"), "--sample", "3", "--wording", str(path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "page" / "review.html").read_text(encoding="utf-8")
    data = json.loads(page.split('type="application/json">')[1].split("</script>")[0])
    assert data["wording"]["tables"]["abnormalities"]["question"] == "Est-ce que le compte rendu d\u00e9crit {label} ?"
    assert data["wording"]["tables"]["rads"] == DEFAULT_WORDING.tables["rads"].model_dump()
