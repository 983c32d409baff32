"""`radlite sql` and `radlite tables` on a committed OUT, wherever it was moved."""

import json
import os

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
