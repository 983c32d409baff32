"""Finding timeline on SYNTHETIC patient series: computed change, stated-vs-computed agreement and the
registry views against the generator's truth (training/data/synthetic_series.py).

    .venv/bin/python benchmarks/timeline_synthetic.py [--patients 200] [--seed 0] [--work DIR]

Runs `radlite run` with the rule-routed tasks (rads_assignment, abnormality_detection,
temporal_comparison; no model) on the generated CSV, then compares. Synthetic data only: no figure
here says anything about real reports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipelines.options import TaskOptions  # noqa: E402
from pipelines.run import RunConfig, run_etl  # noqa: E402
from radlite.io.inputs import ColumnMapping, expand_inputs  # noqa: E402
from radlite.query import run_query  # noqa: E402
from radlite.store import OutputStore  # noqa: E402
from training.data.synthetic_series import SeriesTruth, generate_series, write_series  # noqa: E402

RULE_TASKS = "rads_assignment,abnormality_detection,temporal_comparison"
_AGREES = {"agree": True, "disagree": False}


def run_series(csv_path: str, out: str) -> None:
    """The ETL over the series with the rule-routed tasks only."""
    run_etl(RunConfig(inputs=expand_inputs([csv_path], None, ColumnMapping()), out=out,
                      tasks=TaskOptions(tasks=RULE_TASKS, routing="embedded")))


def study_ids(store: OutputStore) -> dict[str, str]:
    """report_id -> the generator's study id (the CSV's id column: locator id=<id>)."""
    reports = store.read_table("reports", ["report_id", "locator"]).to_pylist()
    return {r["report_id"]: r["locator"].removeprefix("id=") for r in reports}


def view_answer(store: OutputStore, view: str) -> set[tuple[str, str]]:
    """(patient, study id) pairs a registry view returns."""
    ids = study_ids(store)
    _, rows = run_query(store, f"SELECT patient_id, report_id FROM {view}")
    return {(patient, ids[report]) for patient, report in rows}


def compare(store: OutputStore, truth: SeriesTruth) -> dict:
    """Per finding kind: computed change accuracy; stated changes found; agreement accuracy; views."""
    ids = study_ids(store)
    rows = {(ids[r["report_id"]], r["finding_kind"], r["finding"]): r
            for r in store.read_table("finding_timeline").to_pylist()}
    computed: dict[str, Counter] = {}
    for key, true in truth.changes.items():
        found = rows.get(key)
        computed.setdefault(key[1], Counter())[found is not None and found["computed_change"] == true] += 1
    agreement = Counter()
    for key, stated in truth.stated.items():
        found = rows.get(key)
        true_change = truth.changes[key]
        expected = "no_prior" if true_change == "baseline" else \
            "agree" if (stated, true_change) in {("unchanged", "persistent"), ("worsened", "increased"),
                                                 ("improved", "decreased"), ("new", "new"),
                                                 ("resolved", "resolved")} else "disagree"
        agreement[found is not None and found["stated_change"] == stated and found["agreement"] == expected] += 1
    views = {name: {"truth": len(getattr(truth, name)), "found": len(answer := view_answer(store, name)),
                    "equal": answer == getattr(truth, name)}
             for name in ("lung_rads_upgrades", "stable_but_grew")}
    return {"computed_change_correct": {k: f"{c[True]}/{c[True] + c[False]}" for k, c in sorted(computed.items())},
            "stated_change_and_agreement_correct": f"{agreement[True]}/{agreement[True] + agreement[False]}",
            "views": views}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=None, help="folder for the CSV, truth and OUT (a temp folder if unset)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="synthetic-series-")
    os.makedirs(work, exist_ok=True)
    series = generate_series(args.patients, seed=args.seed)
    csv_path, _ = write_series(series, work)
    out = os.path.join(work, "out")
    run_series(csv_path, out)
    result = compare(OutputStore(out), series.truth)
    print(json.dumps({"patients": args.patients, "seed": args.seed, "reports": len(series.rows), **result}, indent=1))


if __name__ == "__main__":
    main()
