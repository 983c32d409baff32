import json
import os

from conftest import ROOT, run_cli
from etl_helpers import ingest, table_rows, write_bad_inputs

from radlite.tables import TABLES, arrow_schema, contract_json


def test_two_workers_give_the_same_table_contents(tmp_path, sample_reports_dir):
    write_bad_inputs(str(tmp_path / "in"))
    inputs = [sample_reports_dir + "/*", str(tmp_path / "in" / "*")]
    one = ingest(inputs, str(tmp_path / "one"))
    two = ingest(inputs, str(tmp_path / "two"), workers=2)
    assert (one.read, one.accepted, one.rejected) == (two.read, two.accepted, two.rejected)
    for table in ("reports", "rejects"):
        assert table_rows(str(tmp_path / "one"), table) == table_rows(str(tmp_path / "two"), table)


def test_checked_in_contract_matches_code():
    for table in TABLES:
        with open(os.path.join(ROOT, "schemas", f"{table}.json")) as fh:
            assert json.load(fh) == contract_json(table), f"schemas/{table}.json is stale: radlite schemas --write"
    assert run_cli("schemas", "--check").returncode == 0


def test_written_parquet_files_carry_the_contract_schema(tmp_path, sample_reports_dir):
    import pyarrow.parquet as pq

    from radlite.store import OutputStore

    ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    store = OutputStore(str(tmp_path / "out"))
    for table in TABLES:
        for path in store.committed_files(table):
            assert pq.read_schema(path).remove_metadata().equals(arrow_schema(table).remove_metadata()), path


def test_sql_and_tables_commands(tmp_path, sample_reports_dir):
    summary = ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    out = str(tmp_path / "out")
    result = run_cli("sql", out, "select count(*) as n from reports", "--format", "json")
    assert json.loads(result.stdout) == [{"n": summary.accepted}]
    listing = run_cli("tables", out).stdout
    assert "reports" in listing and "rejects" in listing
    bad = run_cli("sql", out, "select nope from reports")
    assert bad.returncode != 0 and "nope" in bad.stderr


def test_moved_output_directory_stays_queryable(tmp_path, sample_reports_dir):
    summary = ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    os.rename(tmp_path / "out", tmp_path / "moved")
    result = run_cli("sql", str(tmp_path / "moved"), "select count(*) as n from reports", "--format", "json")
    assert json.loads(result.stdout) == [{"n": summary.accepted}]
