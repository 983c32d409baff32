"""OMOP CDM v5.4 export: NOTE and NOTE_NLP columns and types as the checked-in spec says, term_exists from
the assertion on every row, concept ids from a site's CONCEPT.csv."""

import csv
import os

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import run_cli
from export_helpers import build_export_out

from radlite.export.omop import SPEC_PATH
from radlite.store import OutputStore

ARROW = {"integer": "int32", "bigint": "int64", "date": "date32[day]", "datetime": "timestamp[us]"}


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
    report_of = dict(zip(tables["note"].column("note_id").to_pylist(),
                         tables["note"].column("note_source_value").to_pylist()))
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
                        "900001\tPleural effusion\tCondition\tSNOMED\tDisorder\tS\t60046008\t20020131\t20991231\t\n")
    tables = _export(exported_out, str(tmp_path / "omop"), "--concept-map", concepts)
    rows = tables["note_nlp"].to_pylist()
    mapped = [r for r in rows if "code=SNOMED:60046008" in r["term_modifiers"]]
    assert mapped and all(r["note_nlp_concept_id"] == 900001 for r in mapped)
    assert all(r["note_nlp_concept_id"] == 0 for r in rows if r not in mapped)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,code\n1,2\n")
    result = run_cli("export", exported_out, "--format", "omop", "--to", tmp_path / "o2", "--concept-map", bad)
    assert result.exit_code != 0 and "Athena CONCEPT.csv" in result.output and not (tmp_path / "o2").exists()
