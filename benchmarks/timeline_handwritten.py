"""Finding timeline on the HAND-WRITTEN patient series (tests/timeline/fixtures/): pairing, computed and
stated change, agreement and the registry views against the answer written before the code.

    .venv/bin/python benchmarks/timeline_handwritten.py [--normalize-patient-ids] [--heldout | --revisions] [--work DIR]

--heldout measures the second series, written after the code (handwritten_heldout_*); --revisions the
third, category revisions (an addendum, "X -> Y"; handwritten_revisions_*).

Runs `radlite run` with the rule-routed tasks (no model) on the CSV, then compares. Hand-written
reports only: the figures say how the step reads these phrasings, not how it does on a hospital's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipelines.options import TaskOptions  # noqa: E402
from pipelines.run import RunConfig, run_etl  # noqa: E402
from radlite.io.inputs import ColumnMapping, expand_inputs  # noqa: E402
from radlite.query import run_query  # noqa: E402
from radlite.store import OutputStore  # noqa: E402
from radlite.timeline.pairing import TimelineOptions  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "timeline", "fixtures")
SERIES = os.path.join(FIXTURES, "handwritten_series.csv")
EXPECTED = os.path.join(FIXTURES, "handwritten_expected.json")
HELDOUT_SERIES = os.path.join(FIXTURES, "handwritten_heldout_series.csv")
HELDOUT_EXPECTED = os.path.join(FIXTURES, "handwritten_heldout_expected.json")
REVISIONS_SERIES = os.path.join(FIXTURES, "handwritten_revisions_series.csv")
REVISIONS_EXPECTED = os.path.join(FIXTURES, "handwritten_revisions_expected.json")
RULE_TASKS = "rads_assignment,abnormality_detection,temporal_comparison"


def run_series(series: str, out: str, normalize: bool) -> None:
    """The ETL over a hand-written series with the rule-routed tasks only."""
    run_etl(RunConfig(inputs=expand_inputs([series], None, ColumnMapping()), out=out,
                      tasks=TaskOptions(tasks=RULE_TASKS, routing="embedded"),
                      timeline=TimelineOptions(normalize_patient_ids=normalize)))


def _fraction(hits: int, n: int) -> str:
    return f"{hits}/{n}"


def compare(store: OutputStore, expected: dict) -> dict:
    """Per expected row: prior, computed change, stated change (with agreement); disagree rows that are real;
    the registry views' rows."""
    ids = {r["report_id"]: r["locator"].removeprefix("id=") for r in store.read_table("reports").to_pylist()}
    priors = {ids[p["report_id"]]: ids.get(p["prior_report_id"]) for p in store.read_table("report_priors").to_pylist()}
    timeline = [{**r, "study": ids[r["report_id"]]} for r in store.read_table("finding_timeline").to_pylist()]
    rows = {(r["study"], r["finding_kind"], r["finding"]): r for r in timeline}
    findings = expected["findings"]
    got = [rows.get((e["study"], e["finding_kind"], e["finding"])) for e in findings]
    computed_misses = [e for e, g in zip(findings, got) if g is None or g["computed_change"] != e["computed_change"]]
    stated = [(e, g) for e, g in zip(findings, got) if e["stated_change"]]
    stated_misses = [e for e, g in stated if g is None or (g["stated_change"], g["agreement"]) !=
                     (e["stated_change"], e["agreement"])]
    real = {(e["study"], e["finding"]) for e in findings if e["agreement"] == "disagree"}
    disagree = [(r["study"], r["finding"]) for r in timeline if r["agreement"] == "disagree"]
    views = {}
    for view in ("stable_but_grew", "lung_rads_upgrades"):
        _, answer = run_query(store, f"SELECT report_id, {'finding' if view == 'stable_but_grew' else 'category'} "
                                     f"FROM {view}")
        found = sorted([ids[r], f] for r, f in answer)
        views[view] = {"expected": len(expected[view]), "found": len(found), "equal": found == sorted(expected[view]),
                       "rows": found}
    return {
        "reports": len(ids),
        "prior_right": _fraction(sum(priors.get(s) == p for s, p in expected["priors"].items()),
                                 len(expected["priors"])),
        "computed_change_right": _fraction(len(findings) - len(computed_misses), len(findings)),
        "stated_change_and_agreement_right": _fraction(len(stated) - len(stated_misses), len(stated)),
        "disagree_rows_real": _fraction(sum(d in real for d in disagree), len(disagree)),
        "views": views,
        "computed_misses": [(e["study"], e["finding"], e["computed_change"],
                             (rows.get((e["study"], e["finding_kind"], e["finding"])) or {}).get("computed_change"))
                            for e in computed_misses],
        "stated_misses": [(e["study"], e["finding"], e["stated_change"], e["agreement"]) for e in stated_misses],
        "false_disagree": [d for d in disagree if d not in real],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normalize-patient-ids", action="store_true")
    parser.add_argument("--heldout", action="store_true", help="the series written after the code")
    parser.add_argument("--revisions", action="store_true", help="the category-revision series")
    parser.add_argument("--work", default=None, help="folder for OUT (a temp folder if unset)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="handwritten-series-")
    out = os.path.join(work, "out")
    series, answer = ((HELDOUT_SERIES, HELDOUT_EXPECTED) if args.heldout else
                      (REVISIONS_SERIES, REVISIONS_EXPECTED) if args.revisions else (SERIES, EXPECTED))
    run_series(series, out, args.normalize_patient_ids)
    with open(answer) as fh:
        expected = json.load(fh)
    print(json.dumps(compare(OutputStore(out), expected), indent=1))


if __name__ == "__main__":
    main()
