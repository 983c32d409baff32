"""Parallel runs: two worker processes give the same tables as one."""

from etl_helpers import ingest, table_rows, write_bad_inputs


def test_two_workers_give_the_same_table_contents(tmp_path, sample_reports_dir):
    write_bad_inputs(str(tmp_path / "in"))
    inputs = [sample_reports_dir + "/*", str(tmp_path / "in" / "*")]
    one = ingest(inputs, str(tmp_path / "one"))
    two = ingest(inputs, str(tmp_path / "two"), workers=2)
    assert (one.read, one.accepted, one.rejected) == (two.read, two.accepted, two.rejected)
    for table in ("reports", "rejects"):
        assert table_rows(str(tmp_path / "one"), table) == table_rows(str(tmp_path / "two"), table)
