"""radlite review import: a wrong id, a duplicate, another OUT or an older sample fail with one line and
import nothing; a good file is committed as review_verdicts with a runs row; the gate reads it."""

import json
import os
import shutil

import pytest
from conftest import SAMPLE_REPORTS, run_cli
from review_helpers import draw_sample, rule_out, write_csv

from radlite.errors import ExitCode
from radlite.store import OutputStore, run_started


@pytest.fixture(scope="module")
def base_out(tmp_path_factory):
    return rule_out(str(tmp_path_factory.mktemp("review") / "out"))


@pytest.fixture
def out(base_out, tmp_path):
    """A fresh copy of the reviewed OUT (the same OUT: its runs are the same)."""
    shutil.copytree(base_out, tmp_path / "out")
    return str(tmp_path / "out")


def _rows(sample, verdict="correct"):
    return [{"sample_id": sample["sample_id"], "out_id": sample["out_id"], "item_id": i["item_id"],
             "verdict": verdict, "reviewed_at": "2025-01-02T03:04:05.000Z"} for i in sample["items"]]


def _state(out):
    store = OutputStore(out)
    return store.manifest().runs, store.read_table("review_verdicts").num_rows


def _refused(out, path, *extra):
    before = _state(out)
    result = run_cli("review", "import", out, path, "--reviewer", "ana", *extra)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _state(out) == before  # nothing imported, no run committed
    return result.output


def test_bad_verdict_files_fail_with_one_line_and_import_nothing(out, tmp_path):
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "12", "--seed", "3")
    good = _rows(sample)

    wrong = [dict(good[0], item_id="0123456789abcdef"), *good[1:]]
    assert "item id '0123456789abcdef' is not in sample" in _refused(out, write_csv(tmp_path / "w.csv", wrong))

    twice = [*good, dict(good[3], verdict="incorrect")]
    assert f"item {good[3]['item_id']} is marked twice" in _refused(out, write_csv(tmp_path / "d.csv", twice))

    bad_verdict = [dict(good[0], verdict="maybe")]
    assert "verdict 'maybe' is not one of" in _refused(out, write_csv(tmp_path / "v.csv", bad_verdict))

    older = json.load(open(tmp_path / "page" / "sample.json"))
    older["items"][0]["model_id"] = "an-older-model.gguf"
    with open(tmp_path / "older.json", "w") as fh:
        json.dump(older, fh)
    message = _refused(out, write_csv(tmp_path / "g.csv", good), "--sample", str(tmp_path / "older.json"))
    assert "changed since" in message and "draw a new sample" in message


def test_the_reviewer_is_the_name_the_page_wrote_in_the_file(out, tmp_path):
    """The page's export names its reviewer: it is imported under that name with no --reviewer; another
    name, a file mixing reviewers, or an unnamed file without --reviewer is refused."""
    import csv

    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "4", "--table", "abnormalities")

    def named(path, names):
        rows = [{**r, "reviewer": n} for r, n in zip(_rows(sample), names)]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, [*rows[0]])
            writer.writeheader()
            writer.writerows(rows)
        return str(path)

    assert "exported by reviewer 'dana', not 'ana'" in _refused(out, named(tmp_path / "d.csv", ["dana"] * 4))
    assert "holds the verdicts of dana, eli" in _refused(out, named(tmp_path / "m.csv", ["dana", "eli"] * 2))
    unnamed = run_cli("review", "import", out, write_csv(tmp_path / "u.csv", _rows(sample)))
    assert unnamed.exit_code == ExitCode.FAILED and "pass --reviewer" in unnamed.output
    result = run_cli("review", "import", out, named(tmp_path / "d.csv", ["dana"] * 4))
    assert result.exit_code == 0 and "4 verdicts of dana" in result.output
    assert {v["reviewer"] for v in OutputStore(out).read_table("review_verdicts").to_pylist()} == {"dana"}


def test_verdicts_from_another_out_are_refused(out, tmp_path):
    other = rule_out(str(tmp_path / "other"), os.path.join(SAMPLE_REPORTS, "synthetic-rads.jsonl"))
    sample = draw_sample(other, str(tmp_path / "page"), "--sample", "5")
    assert "another OUT" in _refused(out, write_csv(tmp_path / "v.csv", _rows(sample)))
    no_out_id = [dict(r, out_id="") for r in _rows(sample)]
    assert "was not drawn from" in _refused(out, write_csv(tmp_path / "n.csv", no_out_id))


def test_import_commits_verdicts_once_and_the_gate_reads_them(out, tmp_path):
    gate = ("review", "gate", out, "--table", "abnormalities", "--min-precision")
    assert run_cli(*gate, "0.1").exit_code == ExitCode.REVIEW_STALE  # nothing reviewed yet
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "8", "--table", "abnormalities",
                         "--stratify", "status")
    path = write_csv(tmp_path / "v.csv", _rows(sample))
    result = run_cli("review", "import", out, path, "--reviewer", "ana")
    assert result.exit_code == 0, result.output
    assert "imported 8 verdicts" in result.output
    store = OutputStore(out)
    verdicts = store.read_table("review_verdicts").to_pylist()
    assert len(verdicts) == 8 and {v["reviewer"] for v in verdicts} == {"ana"}
    run = store.read_table("runs").to_pylist()[-1]
    assert run["run_id"] == verdicts[0]["run_id"] and json.loads(run["rows_by_table"])["review_verdicts"] == 8
    assert (run["read"], run["accepted"], run["rejected"], run["status"]) == (8, 8, 0, "committed")
    assert "-review-" in run["run_id"] and run_started(run["run_id"]) == run["started_at"].replace(tzinfo=None)

    assert "already has verdicts on 8" in _refused(out, path)
    again = run_cli("review", "import", out, path, "--reviewer", "ana", "--replace")
    assert again.exit_code == 0 and store.read_table("review_verdicts").num_rows == 8

    # every claim correct: precision's lower bound is the Wilson bound of n of n
    passed = run_cli(*gate, "0.3")
    assert passed.exit_code == ExitCode.OK and "abnormalities passes" in passed.output
    below = run_cli(*gate, "0.99")
    assert below.exit_code == ExitCode.REVIEW_BELOW and "lower bound" in below.output
    sql = run_cli("sql", out, "SELECT count(*) AS n FROM review_verdicts", "--format", "json")
    assert json.loads(sql.output)[0]["n"] == 8


# -- Excel round trip (synthetic files written the way a spreadsheet saves the page's export) ------------

COLUMNS = ["sample_id", "out_id", "item_id", "verdict", "corrected_value", "reviewed_at"]


def excel_csv(path, rows, separator=";", date="02/01/2025 03:04"):
    """The page's CSV as Excel re-saves it in a day-first, comma-decimal locale: UTF-8 BOM, ';', CRLF and
    reviewed_at in the local date format. Returns the text (without BOM) for cutting."""
    lines = [separator.join(COLUMNS)]
    lines += [separator.join([r["sample_id"], r["out_id"], r["item_id"], r["verdict"], "", date]) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(text)
    return text


def write_text(path, text):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(text)
    return str(path)


@pytest.mark.parametrize("separator,date", [(";", "02/01/2025 03:04"), (";", "02.01.2025 03:04:05"),
                                            (",", "02/01/2025")])
def test_a_verdict_file_saved_again_by_excel_imports(out, tmp_path, separator, date):
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "6", "--table", "abnormalities")
    path = tmp_path / "excel.csv"
    excel_csv(path, _rows(sample), separator, date)
    result = run_cli("review", "import", out, str(path), "--reviewer", "ana")
    assert result.exit_code == 0, result.output
    stored = OutputStore(out).read_table("review_verdicts").to_pylist()
    assert len(stored) == 6
    assert {(v["reviewed_at"].year, v["reviewed_at"].month, v["reviewed_at"].day) for v in stored} == {(2025, 1, 2)}


def test_a_truncated_verdict_file_is_refused_naming_the_line(out, tmp_path):
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "6", "--table", "abnormalities")
    text = excel_csv(tmp_path / "full.csv", _rows(sample))
    lines = text.split("\r\n")

    # cut just after the verdict cell of the fourth verdict (line 5), no final line break
    cut = "\r\n".join(lines[:4]) + "\r\n" + ";".join(lines[4].split(";")[:4])
    message = _refused(out, write_text(tmp_path / "cut.csv", cut))
    assert "line 5: 4 of 6 columns (ends after verdict)" in message and "cut short" in message

    # a quoted corrected value that never closes (cut inside it)
    quoted = "\r\n".join(lines[:3]) + "\r\n" + ";".join(lines[3].split(";")[:3]) + ';incorrect;"Pleural eff'
    message = _refused(out, write_text(tmp_path / "quote.csv", quoted))
    assert "line 4:" in message and "never closes" in message

    # the last row complete in cells but cut before its reviewed_at, no final line break
    last = "\r\n".join(lines[:6]) + "\r\n" + lines[6].rsplit(";", 1)[0] + ";"
    assert "line 7: the file ends inside this row" in _refused(out, write_text(tmp_path / "end.csv", last))

    with open(tmp_path / "ansi.csv", "wb") as fh:  # Excel's plain "CSV" writes the Windows code page
        fh.write(text.replace(";;", ";Épanchement;", 1).encode("cp1252"))
    assert "not UTF-8" in _refused(out, str(tmp_path / "ansi.csv"))

    exported = json.dumps({"sample_id": sample["sample_id"], "verdicts": _rows(sample)}, indent=1)
    cut_json = exported[:exported.index('"verdict": "correct"', 400)]  # the JSON export, cut mid-way
    message = _refused(out, write_text(tmp_path / "cut.json", cut_json))
    assert "unreadable verdict file" in message and f"line {cut_json.count(chr(10)) + 1}" in message

    bad_date = text.replace("02/01/2025 03:04", "yesterday", 1)
    assert "line 2: reviewed_at 'yesterday' is not a date" in _refused(out, write_text(tmp_path / "d.csv", bad_date))


# -- disputes and adjudication -------------------------------------------------------------------------------

def test_disputes_block_the_gate_until_adjudicated(out, tmp_path):
    sample = draw_sample(out, str(tmp_path / "page"), "--sample", "10", "--table", "abnormalities")
    ana = _rows(sample)
    ben = [dict(r, verdict="incorrect") if k in (1, 4) else r for k, r in enumerate(ana)]
    for reviewer, rows in (("ana", ana), ("ben", ben)):
        result = run_cli("review", "import", out, write_csv(tmp_path / f"{reviewer}.csv", rows), "--reviewer",
                         reviewer)
        assert result.exit_code == 0, result.output
    disputed = sorted(ana[k]["item_id"] for k in (1, 4))

    gate = run_cli("review", "gate", out, "--table", "abnormalities", "--min-precision", "0.1", "--max-miss-rate", "1")
    assert gate.exit_code == ExitCode.REVIEW_STALE and "2 open disputes" in gate.output
    assert all(item in gate.output for item in disputed)
    listed = run_cli("review", "adjudicate", out)
    assert listed.exit_code == 0 and "2 open disputes" in listed.output
    assert all(item in listed.output for item in disputed)
    assert run_cli("review", "report", out, "--out", str(tmp_path / "open")).exit_code == 0
    open_page = (tmp_path / "open" / "report.html").read_text()
    assert "<h2>Disputes</h2><p>2 open</p>" in open_page
    assert all(f"<td>{item}</td>" in open_page for item in disputed)

    # an item nobody disputes, or a verdict that is not one, records nothing
    before = _state(out)
    calm = run_cli("review", "adjudicate", out, f"{ana[0]['item_id']}=correct", "--reviewer", "cleo")
    assert calm.exit_code == ExitCode.FAILED and "is not disputed" in calm.output and _state(out) == before
    assert run_cli("review", "adjudicate", out, f"{disputed[0]}=maybe", "--reviewer", "cleo").exit_code == \
        ExitCode.USAGE

    settled = run_cli("review", "adjudicate", out, f"{disputed[0]}=correct", f"{disputed[1]}=incorrect",
                      "--reviewer", "cleo")
    assert settled.exit_code == 0, settled.output
    assert "0 open disputes left" in settled.output
    stored = [v for v in OutputStore(out).read_table("review_verdicts").to_pylist() if v["adjudication"]]
    assert sorted((v["item_id"], v["verdict"], v["reviewer"]) for v in stored) == sorted(
        [(disputed[0], "correct", "cleo"), (disputed[1], "incorrect", "cleo")])
    run = OutputStore(out).read_table("runs").to_pylist()[-1]
    assert json.loads(run["options"])["command"] == "review adjudicate"

    gate = run_cli("review", "gate", out, "--table", "abnormalities", "--min-precision", "0.1", "--max-miss-rate", "1")
    assert gate.exit_code == ExitCode.OK, gate.output

    report = run_cli("review", "report", out, "--out", str(tmp_path / "report"))
    printed = " ".join(report.output.split())  # rich wraps at the terminal's width
    assert report.exit_code == 0 and "Cohen's kappa" in printed and "0 open disputes" in printed
    assert "2 adjudicated" in printed
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Cohen&#x27;s kappa" in page and "ana / ben" in page
    assert "<p>0 open</p>" in page and "<td>correct (cleo)</td>" in page and "<td>incorrect (cleo)</td>" in page
