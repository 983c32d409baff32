"""OMOP CDM v5.4 export: NOTE and NOTE_NLP columns and types as the checked-in spec and the official DuckDB
DDL say, term_exists from the assertion on every row, concept ids from a site's CONCEPT.csv, dates by one
rule shared with FHIR."""

import csv
import json
import os
from datetime import date

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT, run_cli
from export_helpers import build_export_out

from radlite.export.omop import SPEC_PATH
from radlite.export.values import run_started
from radlite.store import OutputStore

ARROW = {"integer": "int32", "date": "date32[day]", "datetime": "timestamp[us]"}
CDM_DDL = os.path.join(ROOT, "tests", "fixtures", "omop", "cdm54_note_duckdb.sql")


@pytest.fixture(scope="session")
def exported_out(tmp_path_factory):
    return build_export_out(tmp_path_factory)


def _export(out, target, *extra):
    result = run_cli("export", out, "--format", "omop", "--to", target, *extra)
    assert result.exit_code == 0, result.output
    return {t: pq.read_table(os.path.join(target, f"{t}.parquet")) for t in ("note", "note_nlp")}


def test_columns_and_types_match_the_cdm_spec(exported_out, tmp_path):
    tables = _export(exported_out, str(tmp_path / "omop"))
    spec = yaml.safe_load(open(SPEC_PATH))
    assert [c["name"] for c in spec["note_nlp"]][:6] == ["note_nlp_id", "note_id", "section_concept_id", "snippet",
                                                         "offset", "lexical_variant"]
    for table, columns in spec.items():
        schema = tables[table].schema
        assert schema.names == [c["name"] for c in columns]
        for column in columns:
            expected = "string" if column["type"].startswith("varchar") else ARROW[column["type"]]
            assert str(schema.field(column["name"]).type) == expected, column
            values = tables[table].column(column["name"]).to_pylist()
            if column["required"]:
                assert None not in values, column["name"]
            if column["type"].startswith("varchar(") and column["type"] != "varchar(MAX)":
                limit = int(column["type"][8:-1])
                assert all(len(v) <= limit for v in values if v is not None), column["name"]
        with open(tmp_path / "omop" / f"{table}.csv", newline="") as fh:
            assert next(csv.reader(fh)) == [c["name"] for c in columns]
    assert tables["note"].num_rows == len(OutputStore(exported_out).read_table("reports"))
    assert len(set(tables["note_nlp"].column("note_nlp_id").to_pylist())) == tables["note_nlp"].num_rows


def test_term_exists_agrees_with_the_assertion_on_every_row(exported_out, tmp_path):
    tables = _export(exported_out, str(tmp_path / "omop"))
    store = OutputStore(exported_out)
    status = {(r["report_id"], r["finding"]): r["status"] for r in store.read_table("abnormalities").to_pylist()
              if r["valid"]}
    report_of = {n: v.split(";")[0] for n, v in zip(tables["note"].column("note_id").to_pylist(),
                                                      tables["note"].column("note_source_value").to_pylist())}
    expected = {"positive": ("Y", "uncertain=false"), "negative": ("N", "uncertain=false"),
                "uncertain": ("N", "uncertain=true")}
    checked = 0
    for row in tables["note_nlp"].to_pylist():
        modifiers = dict(part.split("=", 1) for part in row["term_modifiers"].split(", "))
        if modifiers["kind"] == "chexpert":
            found = status[(report_of[row["note_id"]], modifiers["name"])]
            assert (row["term_exists"], f"uncertain={modifiers['uncertain']}") == expected[found]
            checked += 1
        elif modifiers["kind"] == "temporal_change":
            assert row["term_exists"] == "Y"
            assert row["term_temporal"] == ("past" if modifiers["value"] == "resolved" else "present")
        assert row["nlp_system"] and row["lexical_variant"]
    assert checked == sum(s != "not_mentioned" for s in status.values()) > 0


def test_concept_map_fills_concept_ids_by_code(exported_out, tmp_path):
    concepts = tmp_path / "CONCEPT.csv"  # Athena's layout, tab-separated; ids made up for the test
    concepts.write_text("concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\t"
                        "concept_code\tvalid_start_date\tvalid_end_date\tinvalid_reason\n"
                        "900001\tPleural effusion\tCondition\tSNOMED\tDisorder\tS\t60046008\t20020131\t20991231\t\n"
                        "900002\tDiagnostic imaging study\tMeasurement\tLOINC\tClinical Observation\tS\t18748-4\t"
                        "19950101\t20991231\t\n")
    tables = _export(exported_out, str(tmp_path / "omop"), "--concept-map", concepts)
    rows = tables["note_nlp"].to_pylist()
    mapped = [r for r in rows if "code=SNOMED:60046008" in r["term_modifiers"]]
    assert mapped and all(r["note_nlp_concept_id"] == 900001 for r in mapped)
    assert all(r["note_nlp_concept_id"] == 0 for r in rows if r not in mapped)
    assert set(tables["note"].column("note_class_concept_id").to_pylist()) == {900002}  # the report's LOINC code
    unmapped = _export(exported_out, str(tmp_path / "plain"))
    assert set(unmapped["note"].column("note_class_concept_id").to_pylist()) == {0}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,code\n1,2\n")
    result = run_cli("export", exported_out, "--format", "omop", "--to", tmp_path / "o2", "--concept-map", bad)
    assert result.exit_code != 0 and "Athena CONCEPT.csv" in result.output and not (tmp_path / "o2").exists()


def _ddl_columns(con, table):
    return [(r[0], r[1], r[2]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def test_tables_load_into_the_official_cdm_ddl_with_its_exact_types(exported_out, tmp_path):
    target = tmp_path / "omop"
    _export(exported_out, str(target))
    con = duckdb.connect()
    con.execute(open(CDM_DDL).read())
    spec = yaml.safe_load(open(SPEC_PATH))
    for table in ("note", "note_nlp"):
        ddl = _ddl_columns(con, table)
        parquet = str(target / f"{table}.parquet")
        found = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
        assert [(r[0], r[1]) for r in found] == [(name, kind) for name, kind, _ in ddl]  # names, order, types
        assert [c["required"] for c in spec[table]] == [null == "NO" for _, _, null in ddl]
        assert [c["type"] for c in spec[table]] == [_ddl_type(table, name) for name, _, _ in ddl]  # the yaml is the DDL
        con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet('{parquet}')")  # NOT NULL enforced
        con.execute(f"CREATE TABLE {table}_csv AS SELECT * FROM {table} LIMIT 0")
        con.execute(f"COPY {table}_csv FROM '{target / f'{table}.csv'}' (HEADER)")
        assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT * FROM {table}_csv)"
                           ).fetchone()[0] == 0
    # every grounded value's offset points at its words in the note text, as a CDM user would read it
    checked = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE substr(n.note_text, CAST(x."offset" AS INTEGER) + 1,
                                                      length(x.lexical_variant)) = x.lexical_variant)
        FROM note_nlp x JOIN note n USING (note_id) WHERE x.term_modifiers LIKE '%grounded=true%'""").fetchone()
    assert checked[0] > 0 and checked[0] == checked[1]


def _ddl_type(table, column):
    """The column's type as the DDL file writes it, in the yaml's words (DuckDB's DESCRIBE says VARCHAR for
    both varchar(250) and TEXT, so the lengths are read from the file)."""
    body = open(CDM_DDL).read().split(f"CREATE TABLE {table} (", 1)[1].split(");", 1)[0]
    kind = next(line.split()[1] for line in body.splitlines() if line.split() and line.split()[0].strip('"') == column)
    return {"TEXT": "varchar(MAX)", "TIMESTAMP": "datetime"}.get(kind, kind)


def test_missing_study_date_follows_one_rule_in_omop_and_fhir(exported_out, tmp_path):
    omop = _export(exported_out, str(tmp_path / "omop"))
    assert run_cli("export", exported_out, "--format", "fhir", "--to", tmp_path / "fhir").exit_code == 0
    fhir = {d["id"]: d for d in map(json.loads, open(tmp_path / "fhir" / "DiagnosticReport.ndjson"))}
    reports = {r["report_id"]: r for r in OutputStore(exported_out).read_table("reports").to_pylist()}
    dated = undated = 0
    for note in omop["note"].to_pylist():
        report_id = note["note_source_value"].split(";")[0]
        report, resource = reports[report_id], fhir[report_id]
        if report["study_date"]:
            dated += 1
            assert note["note_date"] == date.fromisoformat(report["study_date"][:10])
            day = note["note_datetime"].date().isoformat()
            assert resource["effectiveDateTime"] == report["study_date"][:10] == day
        else:
            undated += 1
            assert note["note_date"] == run_started(report["run_id"]).date() and note["note_datetime"] is None
            assert "effectiveDateTime" not in resource
            assert resource["_effectiveDateTime"]["extension"] == [
                {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]
    assert dated > 0 and undated > 0
