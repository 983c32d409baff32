"""The timeline is the same whichever runner wrote the rows: direct runner vs a two-worker Dask cluster."""

import pytest
from conftest import run_cli
from etl_helpers import table_rows

from training.data.synthetic_series import generate_series, write_series

distributed = pytest.importorskip("distributed")
TASKS = "rads_assignment,abnormality_detection,temporal_comparison"


def test_direct_and_dask_runs_give_identical_pairings_and_timelines(tmp_path):
    csv_path, _ = write_series(generate_series(12, seed=5), str(tmp_path))
    outs = {name: str(tmp_path / name) for name in ("direct", "dask")}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        for name, extra in (("direct", ()), ("dask", ("--runner", "dask", "--dask-address",
                                                      cluster.scheduler_address, "--dask_npartitions=4"))):
            result = run_cli("run", csv_path, "--out", outs[name], "--tasks", TASKS, "--routing", "embedded",
                             "--quiet", *extra)
            assert result.exit_code == 0, result.output
    for table in ("report_priors", "finding_timeline"):
        rows = table_rows(outs["dask"], table)
        assert rows and rows == table_rows(outs["direct"], table), table
        assert len(rows) == len(set(rows)), table
