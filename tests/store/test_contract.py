"""The table contract: code, checked-in schemas/ and the written Parquet files agree."""

import json
import os

import pyarrow.parquet as pq
from conftest import ROOT, run_cli
from etl_helpers import ingest

from radlite.store import OutputStore
from radlite.tables import TABLES, arrow_schema, contract_json


def test_checked_in_contract_matches_code():
    for table in TABLES:
        with open(os.path.join(ROOT, "schemas", f"{table}.json")) as fh:
            assert json.load(fh) == contract_json(table), f"schemas/{table}.json is stale: radlite schemas --write"
    result = run_cli("schemas", "--check", "--dir", os.path.join(ROOT, "schemas"))
    assert result.exit_code == 0 and "match the code" in result.stdout


def test_written_parquet_files_carry_the_contract_schema(tmp_path, sample_reports_dir):
    ingest([sample_reports_dir + "/*"], str(tmp_path / "out"))
    store = OutputStore(str(tmp_path / "out"))
    for table in TABLES:
        for path in store.committed_files(table):
            assert pq.read_schema(path).remove_metadata().equals(arrow_schema(table).remove_metadata()), path
