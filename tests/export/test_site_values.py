"""Per-site values in the exports: a report that stages two primaries (staging) or assesses two sides
(rads) exports its report-level value and one value per site, the site named in FHIR's bodySite and
code text and in OMOP's term_modifiers; report-level values name none."""

import json
import os

import pyarrow.parquet as pq
import pytest
from conftest import run_cli
from fhir.resources.R4B.observation import Observation

from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.store import OutputStore

ROUTING = "name: rules-sites\nmodels:\n  rules:\n    kind: rules\ntasks:\n  rads_assignment: rules\n" \
          "  n_staging: rules\n  m_staging: rules\n"
REPORTS = [
    {"id": "two-primaries", "text": "CT CHEST ABDOMEN PELVIS\nIMPRESSION: Right upper lobe primary: cT2a N1 M0. "
                                    "Left breast primary: T1c N0 M0."},
    {"id": "bilateral", "text": "MAMMO DIAGNOSTIC BILATERAL\nIMPRESSION: Right breast: BI-RADS 4B. "
                                "Left breast: BI-RADS 2."},
    {"id": "one-primary", "text": "CT CHEST\nIMPRESSION: Right upper lobe adenocarcinoma, cT2a N2 M0."},
]


@pytest.fixture(scope="module")
def site_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site-values")
    (folder / "routing.yaml").write_text(ROUTING)
    with open(folder / "reports.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in REPORTS)
    out = str(folder / "out")
    run_etl(RunConfig(inputs=expand_inputs([str(folder / "reports.jsonl")], None, ColumnMapping()), out=out,
                      tasks=TaskOptions(tasks="rads_assignment,n_staging,m_staging",
                                        routing=str(folder / "routing.yaml"))))
    return out


def _rows(out):
    store = OutputStore(out)
    return [r for table in ("rads", "staging") for r in store.read_table(table).to_pylist()
            if r["valid"] and (r.get("system") not in (None, "none") or r.get("n_stage") or r.get("m_stage"))]


def test_fhir_names_the_site_of_each_per_site_value(site_out, tmp_path):
    assert run_cli("export", site_out, "--format", "fhir", "--to", tmp_path / "fhir").exit_code == 0
    observations = [json.loads(line) for line in open(tmp_path / "fhir" / "Observation.ndjson")]
    for obs in observations:
        Observation.model_validate(obs)
    rows = _rows(site_out)
    assert len(observations) == len(rows) == len({o["id"] for o in observations})
    sites = sorted((o["code"]["text"], o["bodySite"]["text"], o["valueCodeableConcept"]["text"])
                   for o in observations if "bodySite" in o)
    assert sites == [("BI-RADS category (left breast)", "left breast", "BI-RADS 2"),
                     ("BI-RADS category (right breast)", "right breast", "BI-RADS 4B"),
                     ("M stage (left breast)", "left breast", "M0"),
                     ("M stage (right upper lobe)", "right upper lobe", "M0"),
                     ("N stage (left breast)", "left breast", "N0"),
                     ("N stage (right upper lobe)", "right upper lobe", "N1")]
    report_level = sorted((o["code"]["text"], o["valueCodeableConcept"]["text"])
                          for o in observations if "bodySite" not in o)
    assert report_level == [("BI-RADS category", "BI-RADS 4B"), ("M stage", "M0"), ("M stage", "M0"),
                            ("N stage", "N1"), ("N stage", "N2")]


def test_omop_names_the_site_in_term_modifiers(site_out, tmp_path):
    assert run_cli("export", site_out, "--format", "omop", "--to", tmp_path / "omop").exit_code == 0
    nlp = pq.read_table(os.path.join(tmp_path / "omop", "note_nlp.parquet")).to_pylist()
    rows = _rows(site_out)
    assert len(nlp) == len(rows)
    with_site = sorted(m.split("site=")[1].split(",")[0] for m in (r["term_modifiers"] for r in nlp) if "site=" in m)
    assert with_site == sorted(r["site"] for r in rows if r["scope"] == "site")
    assert len(with_site) == 6
