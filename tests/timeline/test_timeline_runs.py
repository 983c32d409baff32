"""The timeline step after real runs: incremental arrival, reruns, and the registry views vs the truth."""

import csv

import pytest

from pipelines.options import OutputOptions, TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.query import run_query
from radlite.store import OutputStore
from training.data.synthetic_series import generate_series, write_series

RULE_TASKS = TaskOptions(tasks="rads_assignment,abnormality_detection,temporal_comparison", routing="embedded")
CT = ("EXAMINATION: LOW DOSE CT CHEST FOR LUNG CANCER SCREENING\nFINDINGS: {finding}\n"
      "IMPRESSION: Lung-RADS {category}.\n")


def _run(paths, out, full=False):
    return run_etl(RunConfig(inputs=expand_inputs(list(paths), None, ColumnMapping()), out=out, tasks=RULE_TASKS,
                             output=OutputOptions(full=full)))


def _export(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=("id", "patient_id", "study_date", "text"))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def _study(sid, date, size, category, stated=""):
    finding = f"The {size} mm solid nodule in the right upper lobe is {stated}." if stated else \
        f"There is a {size} mm solid nodule in the right upper lobe."
    return {"id": sid, "patient_id": "synthetic-p1", "study_date": date,
            "text": CT.format(finding=finding, category=category)}


def _by_study(store, table):
    ids = {r["report_id"]: r["locator"].removeprefix("id=") for r in store.read_table("reports").to_pylist()}
    return ids, [{**r, "study": ids[r["report_id"]]} for r in store.read_table(table).to_pylist()]


def test_a_newer_study_pairs_with_a_committed_prior_and_a_late_older_one_re_pairs(tmp_path):
    out = str(tmp_path / "out")
    _run([_export(tmp_path / "month1.csv", [_study("synthetic-s2023", "2023-06-01", 6, "3")])], out)
    _run([_export(tmp_path / "tonight.csv", [_study("synthetic-s2024", "2024-06-01", 8, "4A", "stable")])], out)
    store = OutputStore(out)
    ids, priors = _by_study(store, "report_priors")
    prior_of = {p["study"]: ids.get(p["prior_report_id"]) for p in priors}
    assert prior_of == {"synthetic-s2023": None, "synthetic-s2024": "synthetic-s2023"}
    _, timeline = _by_study(store, "finding_timeline")
    lesion = next(r for r in timeline if r["study"] == "synthetic-s2024" and r["finding_kind"] == "lesion")
    assert (lesion["prior_size_mm"], lesion["size_mm"], lesion["computed_change"], lesion["stated_change"],
            lesion["agreement"]) == (6.0, 8.0, "increased", "unchanged", "disagree")

    # a late-arriving older study becomes the first one's prior; the old pairing stays in history
    _run([_export(tmp_path / "late.csv", [_study("synthetic-s2022", "2022-06-01", 6, "3")])], out)
    ids, priors = _by_study(store, "report_priors")
    prior_of = {p["study"]: ids.get(p["prior_report_id"]) for p in priors}
    assert prior_of == {"synthetic-s2022": None, "synthetic-s2023": "synthetic-s2022",
                        "synthetic-s2024": "synthetic-s2023"}
    history = store.read_table("report_priors", history=True).to_pylist()
    assert any(ids[h["report_id"]] == "synthetic-s2023" and h["prior_report_id"] is None for h in history)
    _, timeline = _by_study(store, "finding_timeline")
    keys = [(r["study"], r["finding_kind"], r["finding"]) for r in timeline]
    assert len(keys) == len(set(keys)) and {k[0] for k in keys} == {"synthetic-s2022", "synthetic-s2023",
                                                                   "synthetic-s2024"}
    assert next(r for r in timeline if r["study"] == "synthetic-s2023" and r["finding_kind"] == "lesion")[
        "computed_change"] == "persistent"


@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("series")
    series = generate_series(30, seed=3)
    csv_path, _ = write_series(series, str(work))
    out = str(work / "out")
    _run([csv_path], out)
    return series, csv_path, out


def _answer(out, view):
    store = OutputStore(out)
    ids = {r["report_id"]: r["locator"].removeprefix("id=") for r in store.read_table("reports").to_pylist()}
    _, rows = run_query(store, f"SELECT patient_id, report_id FROM {view}")
    return {(patient, ids[report]) for patient, report in rows}


def test_the_registry_views_answer_the_generators_truth(series_run):
    series, _, out = series_run
    assert series.truth.lung_rads_upgrades and series.truth.stable_but_grew
    assert _answer(out, "lung_rads_upgrades") == series.truth.lung_rads_upgrades
    assert _answer(out, "stable_but_grew") == series.truth.stable_but_grew


def test_a_full_rerun_gives_the_same_timeline_without_duplicates(series_run, tmp_path):
    _, csv_path, out = series_run
    store = OutputStore(out)
    drop = ("run_id",)
    before = sorted(map(str, store.read_table("finding_timeline").drop_columns(drop).to_pylist()))
    _run([csv_path], out, full=True)
    after = sorted(map(str, store.read_table("finding_timeline").drop_columns(drop).to_pylist()))
    assert after == before and len(after) == len(set(after))
    assert store.read_table("report_priors").num_rows == store.read_table("reports").num_rows


def test_a_report_staging_two_primaries_is_followed_by_its_report_level_stage(tmp_path):
    """The staging table's per-primary rows stay out of the timeline: one N and one M per study."""
    routing = tmp_path / "routing.yaml"
    routing.write_text("name: rules-stages\nmodels:\n  rules:\n    kind: rules\ntasks:\n  n_staging: rules\n"
                       "  m_staging: rules\n")
    text = ("CT CHEST ABDOMEN PELVIS\nIMPRESSION: Right upper lobe primary: cT2a {n} {m}. "
            "Left breast primary: T1c N0 M0.")
    studies = [{"id": f"synthetic-{date}", "patient_id": "synthetic-p2", "study_date": date,
                "text": text.format(n=n, m=m)} for date, n, m in (("2024-01-05", "N1", "M0"),
                                                                   ("2024-04-05", "N2", "M1a"))]
    out = str(tmp_path / "out")
    run_etl(RunConfig(inputs=expand_inputs([_export(tmp_path / "staged.csv", studies)], None, ColumnMapping()),
                      out=out, tasks=TaskOptions(tasks="n_staging,m_staging", routing=str(routing))))
    store = OutputStore(out)
    _, staging = _by_study(store, "staging")
    assert sum(r["scope"] == "site" for r in staging) == 8
    _, timeline = _by_study(store, "finding_timeline")
    followed = sorted((r["study"][10:], r["finding"], r["value"], r["prior_value"], r["computed_change"])
                      for r in timeline)
    assert followed == [("2024-01-05", "M", "M0", None, "baseline"), ("2024-01-05", "N", "N1", None, "baseline"),
                        ("2024-04-05", "M", "M1", "M0", "category_up"), ("2024-04-05", "N", "N2", "N1", "category_up")]
