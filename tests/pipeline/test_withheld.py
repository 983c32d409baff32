"""Withheld, not published (issue 33, items 4 and 5), end to end on one run whose model says wrong things:
an entity negated in the report comes back absent, a stage its evidence negates and a stage of a report
about no cancer stay as withheld rows that the catalog, `radlite sql` and the exports leave out, the run
summary counts and the review draws first.

The reports are hand-written (synthetic) and the model is model_fakes.FakeModel answering from a script."""

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import run_cli
from model_fakes import BEHAVIOUR, ROUTING, SCRIPT, FakeModelProcessor

import pipelines.run
from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.export.standard import export_standard
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.query import run_query
from radlite.review.sample import build_manifest
from radlite.store import OutputStore
from radlite_cli.catalog import export, tables

#: Synthetic, hand-written reports.
REPORTS = {
    "xr-negated": "EXAMINATION: CHEST (PA AND LAT)\nFINDINGS: No pneumothorax. Heart size is normal.\n"
                  "IMPRESSION: No acute process.",
    "ct-screening": "EXAMINATION: CT CHEST LOW DOSE LUNG CANCER SCREENING\nFINDINGS: 4 mm solid nodule in the right "
                    "upper lobe. No lymphadenopathy.\nIMPRESSION: Lung-RADS 2.",
    "ct-staging": "EXAMINATION: CT CHEST WITH CONTRAST\nINDICATION: Staging of right upper lobe adenocarcinoma.\n"
                  "FINDINGS: 3 cm right upper lobe mass. Enlarged subcarinal lymph node. No evidence of distant "
                  "metastasis.\nIMPRESSION: Right upper lobe carcinoma with subcarinal adenopathy.",
}
#: What the fake model answers, whatever the report.
ANSWERS = {"n_staging": "N2", "m_staging": "M1", "radiology_ner": json.dumps([["pneumothorax", "OBS-DP"]])}
TASKS = "n_staging,m_staging,radiology_ner"


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """OUT after one run of the fake model over REPORTS, and the run's summary."""
    base = tmp_path_factory.mktemp("withheld")
    source = base / "reports.jsonl"
    source.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in REPORTS.items()))
    routing = base / "fake.yaml"
    routing.write_text(ROUTING.replace("  n_staging: fake\n", "".join(f"  {t}: fake\n" for t in TASKS.split(","))))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(BEHAVIOUR, "scripted")
        mp.setenv(SCRIPT, json.dumps(ANSWERS))
        mp.setattr(pipelines.run, "RecordProcessor", FakeModelProcessor)
        config = RunConfig(inputs=expand_inputs([str(source)], None, ColumnMapping()), out=str(base / "out"),
                           tasks=TaskOptions(tasks=TASKS, routing=str(routing), allow_unvalidated=True))
        summary = run_etl(config)
    return OutputStore(str(base / "out")), summary


def _rows(store: OutputStore, table: str, include_withheld: bool = True) -> dict[tuple, dict]:
    reports = {r["report_id"]: r["locator"] for r in store.read_table("reports").to_pylist()}
    return {(reports[r["report_id"]].removeprefix("id="), r["task"]): r
            for r in store.read_table(table, include_withheld=include_withheld).to_pylist()}


def test_the_assertion_engine_owns_an_entitys_assertion_and_the_models_label_is_kept(committed):
    store, _ = committed
    entity = _rows(store, "entities")[("xr-negated", "radiology_ner")]
    assert (entity["text"], entity["label"], entity["model_label"]) == ("pneumothorax", "OBS-DA", "OBS-DP")
    assert entity["supported"] is True and entity["withheld"] is False


def test_values_the_report_does_not_carry_are_withheld_with_their_reason(committed):
    store, _ = committed
    staging, entities = _rows(store, "staging"), _rows(store, "entities")
    # M1 on "No evidence of distant metastasis": its own evidence negates it
    m1 = staging[("ct-staging", "m_staging")]
    assert m1["m_stage"] == "M1" and m1["supported"] is False and m1["withheld"] is True
    assert m1["withheld_reason"].startswith("unsupported: ")
    # an N stage of a screening CT that names no cancer it finds: the task does not apply
    n_screening = staging[("ct-screening", "n_staging")]
    assert n_screening["withheld"] is True
    assert n_screening["withheld_reason"] == "not applicable: the report is about no cancer"
    assert staging[("xr-negated", "n_staging")]["withheld_reason"] == "not applicable: the report is about no cancer"
    # words the report does not hold
    assert entities[("ct-staging", "radiology_ner")]["withheld_reason"].startswith("ungrounded: ")
    # the stage a staging report's evidence carries is published; the raw output stays on every row
    n2 = staging[("ct-staging", "n_staging")]
    assert (n2["n_stage"], n2["withheld"], n2["withheld_reason"]) == ("N2", False, None)
    assert all(r["raw_output"] for r in staging.values())


def test_the_current_views_and_sql_show_only_published_values(committed):
    store, _ = committed
    assert [(r["n_stage"], r["m_stage"]) for r in _rows(store, "staging", include_withheld=False).values()] == \
        [("N2", None)]
    _, published = run_query(store, "SELECT n_stage, m_stage, withheld FROM staging")
    assert published == [("N2", None, False)]
    _, held = run_query(store, "SELECT task, withheld_reason FROM staging_withheld ORDER BY task, withheld_reason")
    assert len(held) == 5 and all(reason.split(":")[0] in ("not applicable", "unsupported") for _, reason in held)
    listing = CliRunner().invoke(tables, [store.root], terminal_width=200).output
    staging_line = next(line for line in listing.splitlines() if " staging " in line)
    assert [cell.strip() for cell in staging_line.split("│")[1:4]] == ["staging", "1", "5"]  # rows, withheld


def test_the_summary_and_the_runs_row_count_withheld_rows_per_table(committed):
    store, summary = committed
    assert summary.withheld_by_table["staging"] == 5  # 6 rows: only ct-staging's N2 is published
    assert summary.withheld_by_table["entities"] == 2  # the two reports with no pneumothorax words
    runs = store.read_table("runs").to_pylist()
    assert json.loads(runs[-1]["withheld_by_table"]) == summary.withheld_by_table


def test_review_draws_withheld_values_first(committed, tmp_path):
    store, _ = committed
    manifest = build_manifest(store, 7, ["staging", "entities"], ["table", "label", "status", "model_id"], seed=1)
    assert [i.withheld for i in manifest.items] == [True] * 7  # 7 withheld values: all drawn before the rest
    assert all(i.withheld_reason for i in manifest.items)
    larger = build_manifest(store, 9, ["staging", "entities"], ["table", "label", "status", "model_id"], seed=1)
    assert [i.withheld for i in larger.items] == [True] * 7 + [False] * 2
    assert larger.strata[0].withheld and not larger.strata[-1].withheld
    page = run_cli("review", store.root, "--out", tmp_path / "page", "--sample", "3", "--table", "staging")
    assert page.exit_code == 0 and "3 withheld values drawn first" in page.stdout
    drawn = json.loads((tmp_path / "page" / "sample.json").read_text())["items"]
    assert all(i["withheld"] and i["withheld_reason"] for i in drawn)


def test_exports_leave_withheld_values_out_unless_asked_and_then_mark_them(committed, tmp_path):
    store, _ = committed
    export_standard(store, "fhir", str(tmp_path / "fhir"))
    stages = [json.loads(line) for line in (tmp_path / "fhir" / "Observation.ndjson").read_text().splitlines()]
    assert [o["valueCodeableConcept"]["text"] for o in stages] == ["N2"]

    result = CliRunner().invoke(export, [store.root, "--format", "fhir", "--to", str(tmp_path / "all"),
                                         "--include-withheld"])
    assert result.exit_code == 0, result.output
    every = [json.loads(line) for line in (tmp_path / "all" / "Observation.ndjson").read_text().splitlines()]
    held = [o for o in every if o["status"] == "preliminary"]
    assert len(every) == 6 and len(held) == 5
    assert all(any(e["url"].endswith(":withheld") and e["valueString"] for e in o["extension"]) for o in held)

    export_standard(store, "omop", str(tmp_path / "omop"))
    export_standard(store, "omop", str(tmp_path / "omop-all"), include_withheld=True)
    published = pq.read_table(tmp_path / "omop" / "note_nlp.parquet").to_pylist()
    marked = pq.read_table(tmp_path / "omop-all" / "note_nlp.parquet").to_pylist()
    assert not any("withheld=" in r["term_modifiers"] for r in published)
    withheld = [r for r in marked if r["term_modifiers"].startswith("withheld=")]
    assert len(marked) - len(published) == len(withheld) == 7
    assert {r["term_exists"] for r in withheld} == {"N"}
