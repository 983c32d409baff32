"""`radlite sql` and `radlite tables` on a committed OUT, wherever it was moved."""

import json
import os

import pyarrow.parquet as pq
import pytest
from conftest import run_cli
from etl_helpers import ingest


def test_sql_and_tables_commands(tmp_path, sample_reports_dir):
    summary = ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    out = str(tmp_path / "out")
    result = run_cli("sql", out, "select count(*) as n from reports", "--format", "json")
    assert json.loads(result.stdout) == [{"n": summary.accepted}]
    listing = run_cli("tables", out).stdout
    assert "reports" in listing and "rejects" in listing
    bad = run_cli("sql", out, "select nope from reports")
    assert bad.exit_code == 1 and "nope" in bad.stderr


def test_moved_output_directory_stays_queryable(tmp_path, sample_reports_dir):
    summary = ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    os.rename(tmp_path / "out", tmp_path / "moved")
    result = run_cli("sql", str(tmp_path / "moved"), "select count(*) as n from reports", "--format", "json")
    assert json.loads(result.stdout) == [{"n": summary.accepted}]


def test_usage_errors_and_bad_values_are_one_line_with_their_own_exit_codes(tmp_path, sample_reports_dir):
    missing = run_cli("run", sample_reports_dir)
    assert missing.exit_code == 64 and "--out" in missing.stderr
    bad = run_cli("run", sample_reports_dir, "--out", str(tmp_path / "o"), "--workers", "0", "--tasks", "none")
    assert bad.exit_code == 64 and "--workers" in bad.stderr and "Traceback" not in bad.output
    rate = run_cli("run", sample_reports_dir, "--out", str(tmp_path / "o"), "--max-reject-rate", "-0.5")
    assert rate.exit_code == 64 and "--max-reject-rate" in rate.stderr
    section = run_cli("run", sample_reports_dir, "--out", str(tmp_path / "o"), "--section-column", "bogus=x")
    assert section.exit_code == 64 and "bogus" in section.stderr


@pytest.mark.parametrize("statement", [
    "COPY (SELECT text FROM reports) TO '{tmp}/leak.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "CREATE TABLE copy AS SELECT * FROM reports",
    "PRAGMA version",
    "SELECT 1; SELECT 2",
    "SELECT * FROM read_parquet('{out}/manifest.json')",
])
def test_sql_is_read_only_and_sandboxed(tmp_path, sample_reports_dir, statement):
    ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    query = statement.format(tmp=tmp_path, out=tmp_path / "out")
    result = run_cli("sql", tmp_path / "out", query)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("Error:") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_csv_output_neutralises_formula_cells_and_export_writes_files(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,text\n"=cmd|calc",FINDINGS: clear.\n@x,FINDINGS: normal.\n')
    ingest([str(src)], str(tmp_path / "out"))
    out = str(tmp_path / "out")
    shown = run_cli("sql", out, "SELECT substr(locator, 4) AS id FROM reports ORDER BY 1", "--format", "csv").stdout
    assert shown.splitlines()[1:] == ["'=cmd|calc", "'@x"]
    formulas = run_cli("sql", out, "SELECT '=1+1' AS a, '+x' AS b, '-y' AS c, '@z' AS d, 'ok' AS e", "--format", "csv")
    assert formulas.stdout.splitlines()[1] == "'=1+1,'+x,'-y,'@z,ok"
    for name in ("reports.parquet", "reports.csv"):
        result = run_cli("export", out, "--table", "reports", "--to", tmp_path / name)
        assert result.exit_code == 0 and "2 rows" in result.stdout
    assert pq.read_table(tmp_path / "reports.parquet").num_rows == 2
    assert run_cli("export", out, "--table", "reports", "--to", tmp_path / "x.txt").exit_code == 64


def test_typos_unknown_runners_and_unusable_paths_are_one_line_errors(tmp_path, sample_reports_dir):
    out = str(tmp_path / "o")
    typo = run_cli("run", sample_reports_dir, "--out", out, "--max-reject-rat=0.01")
    assert typo.exit_code == 64 and "did you mean --max-reject-rate" in typo.stderr
    runner = run_cli("run", sample_reports_dir, "--out", out, "--runner=NoSuchRunner")
    assert runner.exit_code == 64 and "--runner" in runner.stderr
    questions = tmp_path / "q.yaml"
    questions.write_text("questions: [ {id: q1, question: [unclosed\n")
    bad_yaml = run_cli("run", sample_reports_dir, "--out", out, "--questions", questions)
    assert bad_yaml.exit_code == 1 and bad_yaml.stderr.startswith("error:")
    (tmp_path / "afile").write_text("x")
    unwritable = run_cli("run", sample_reports_dir, "--out", tmp_path / "afile" / "out", "--tasks", "none")
    assert unwritable.exit_code == 1 and unwritable.stderr.startswith("error: cannot write")
    summary = run_cli("run", sample_reports_dir, "--out", out, "--tasks", "none", "--quiet",
                      "--summary-json", tmp_path / "no" / "such" / "dir.json")
    assert summary.exit_code == 1 and "committed" in summary.stderr
    for result in (typo, runner, bad_yaml, unwritable, summary):
        assert "Traceback" not in result.output
