"""An OUT written before a column was added to the contract still reads, runs and repairs."""

import os

import duckdb
import pyarrow.parquet as pq
from conftest import run_cli
from etl_helpers import write_good_folder

from radlite.store import OutputStore


def _drop_column(path: str, column: str) -> None:
    table = pq.read_table(path)
    pq.write_table(table.drop_columns([column]), path)


def test_an_out_from_before_a_new_column_reads_with_nulls_and_takes_new_runs(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    write_good_folder(str(src), 3)
    assert run_cli("run", src, "--out", out, "--tasks", "abnormality_detection", "--quiet").exit_code == 0
    directory = os.path.join(out, "tables", "abnormalities")
    grounded = OutputStore(str(out)).read_table("abnormalities").column("grounded").to_pylist()
    assert any(g is not None for g in grounded)
    for name in os.listdir(directory):  # as if an older radlite had written them, before `grounded` existed
        _drop_column(os.path.join(directory, name), "grounded")

    old = OutputStore(str(out)).read_table("abnormalities")
    assert old.num_rows == 42 and set(old.column("grounded").to_pylist()) == {None}

    write_good_folder(str(src), 3, start=3)
    assert run_cli("run", src, "--out", out, "--tasks", "abnormality_detection", "--quiet").exit_code == 0
    rows = OutputStore(str(out)).read_table("abnormalities")
    assert rows.num_rows == 84 and rows.column("grounded").null_count == 42 + grounded.count(None)
    counted = run_cli("sql", out, "SELECT count(*) AS n FROM abnormalities WHERE grounded IS NOT NULL", "--format",
                      "csv")
    assert counted.stdout.split() == ["n", str(42 - grounded.count(None))]

    assert run_cli("repair", out).exit_code == 0  # the old files verify as the table's
    assert OutputStore(str(out)).read_table("abnormalities").num_rows == 84


def test_rows_from_before_withheld_existed_are_published_and_an_older_catalog_is_rebuilt(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    write_good_folder(str(src), 2)
    assert run_cli("run", src, "--out", out, "--tasks", "abnormality_detection", "--quiet").exit_code == 0
    directory = os.path.join(out, "tables", "abnormalities")
    for name in os.listdir(directory):  # as if written before `withheld` existed
        if not name.startswith("_"):
            _drop_column(os.path.join(directory, name), "withheld")
    store = OutputStore(str(out))
    assert store.read_table("abnormalities").num_rows == 28  # null withheld: published
    con = duckdb.connect(store.catalog_path)  # a catalog of an older radlite: no version, no _withheld views
    con.execute("DROP TABLE _radlite_catalog")
    con.execute("CREATE TABLE _radlite_catalog AS SELECT ? AS root, 1 AS runs", [store.root])
    con.execute("DROP VIEW abnormalities_withheld")
    con.close()
    assert not store.catalog_is_current()
    listing = run_cli("tables", out)
    assert listing.exit_code == 0 and store.catalog_is_current()
