"""FHIR R4 export: every resource validates (fhir.resources R4B), references resolve, offsets point at the
evidence, text only on request, status and exam as the source sent them (the same in OMOP's NOTE), a Bulk
Data export.json, incremental and atomic."""

import base64
import json
import os
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlparse
from urllib.request import url2pathname

import pyarrow.parquet as pq
import pytest
from conftest import run_cli
from export_helpers import build_export_out
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation

from radlite.export import fhir, omop
from radlite.export.fhir import CONFIDENCE_EXTENSION, EVIDENCE_EXTENSION, PROVENANCE_EXTENSION
from radlite.export.ids import IdMap, value_key
from radlite.export.values import ExportData, load
from radlite.store import OutputStore

MODELS = {"DiagnosticReport": DiagnosticReport, "Observation": Observation}


@pytest.fixture(scope="session")
def exported_out(tmp_path_factory):
    return build_export_out(tmp_path_factory)


def _export(out, target, *extra):
    result = run_cli("export", out, "--format", "fhir", "--to", target, *extra)
    assert result.exit_code == 0, result.output
    return {t: [json.loads(line) for line in open(os.path.join(target, f"{t}.ndjson"))] for t in MODELS}


def _extension(resource, url):
    found = [e for e in resource.get("extension", []) if e["url"] == url]
    return {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in found[0]["extension"]} \
        if found else None


def test_every_resource_validates_and_references_resolve(exported_out, tmp_path):
    resources = _export(exported_out, str(tmp_path / "fhir"))
    for resource_type, items in resources.items():
        for item in items:
            assert item["resourceType"] == resource_type
            MODELS[resource_type].model_validate(item)  # raises on any invalid element
    observation_ids = {o["id"] for o in resources["Observation"]}
    referenced = [r["reference"].split("/", 1)[1] for d in resources["DiagnosticReport"] for r in d.get("result", [])]
    assert sorted(referenced) == sorted(observation_ids)
    reports = OutputStore(exported_out).read_table("reports").to_pylist()
    assert {d["id"] for d in resources["DiagnosticReport"]} == {r["report_id"] for r in reports}


def test_one_observation_per_finding_with_assertion_provenance_and_offsets(exported_out, tmp_path):
    resources = _export(exported_out, str(tmp_path / "fhir"))
    store = OutputStore(exported_out)
    abnormal = [r for r in store.read_table("abnormalities").to_pylist()
                if r["valid"] and r["status"] != "not_mentioned"]
    changes = [r for r in store.read_table("temporal_changes").to_pylist() if r["valid"] and r["change"]]
    assert len(resources["Observation"]) == len(abnormal) + len(changes) > 0
    text = {r["report_id"]: r["text"] for r in store.read_table("reports").to_pylist()}
    interpretation = {"positive": "POS", "negative": "NEG", "uncertain": "IND"}
    expected = {(r["report_id"], r["finding"]): interpretation[r["status"]] for r in abnormal}
    by_report = {o["id"]: d["id"] for d in resources["DiagnosticReport"] for o in
                 [{"id": r["reference"].split("/")[1]} for r in d.get("result", [])]}
    seen = 0
    for obs in resources["Observation"]:
        provenance = _extension(obs, PROVENANCE_EXTENSION)
        assert provenance["model_id"] and len(provenance["prompt_sha256"]) == 64 and provenance["run_id"]
        if provenance["task"] == "abnormality_detection":
            seen += 1
            key = (by_report[obs["id"]], obs["code"]["text"])
            assert obs["interpretation"][0]["coding"][0]["code"] == expected[key]
        evidence = _extension(obs, EVIDENCE_EXTENSION)
        if evidence and "start" in evidence and evidence.get("grounded"):
            assert text[by_report[obs["id"]]][evidence["start"]:evidence["end"]].strip()
        assert "text" not in (evidence or {})  # no report words without --with-text
    assert seen == len(abnormal)
    effusion = [o for o in resources["Observation"] if o["code"]["text"] == "pleural effusion"]
    assert effusion and all(o["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "60046008",
                                                       "display": "Pleural effusion (disorder)"} for o in effusion)


def test_report_text_only_with_the_flag(exported_out, tmp_path):
    plain = _export(exported_out, str(tmp_path / "plain"))
    assert not any("presentedForm" in d or "conclusion" in d for d in plain["DiagnosticReport"])
    full = _export(exported_out, str(tmp_path / "full"), "--with-text")
    text = {r["report_id"]: r["text"] for r in OutputStore(exported_out).read_table("reports").to_pylist()}
    for report in full["DiagnosticReport"]:
        assert base64.b64decode(report["presentedForm"][0]["data"]).decode() == text[report["id"]]


def test_hl7_report_keeps_patient_date_and_exam(exported_out, tmp_path):
    resources = _export(exported_out, str(tmp_path / "fhir"))
    chest = [d for d in resources["DiagnosticReport"] if d.get("subject", {}).get("identifier", {}).get("value")
             == "SYN-P001"]
    assert len(chest) == 1 and chest[0]["effectiveDateTime"] == "2024-03-05"
    assert chest[0]["code"]["text"] == "XR CHEST PA AND LATERAL"  # OBR-4 as sent (reports.examination)


def test_since_exports_only_later_runs_and_the_folder_is_replaced_whole(exported_out, tmp_path):
    runs = OutputStore(exported_out).manifest().runs
    target = str(tmp_path / "fhir")
    _export(exported_out, target)
    manifest = json.load(open(os.path.join(target, "export.json")))
    assert manifest["extension"]["through_run_id"] == runs[-1]
    again = _export(exported_out, target, "--since", runs[-1])  # replaces the earlier export
    assert again == {"DiagnosticReport": [], "Observation": []}
    result = run_cli("export", exported_out, "--format", "fhir", "--to", target, "--since", "no-such-run")
    assert result.exit_code != 0 and "no such committed run" in result.output
    assert json.load(open(os.path.join(target, "export.json")))["extension"]["since_run_id"] == runs[-1]  # untouched
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".fhir")]  # no temporary folder left


def test_a_folder_that_is_not_an_export_is_never_replaced(exported_out, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    result = run_cli("export", exported_out, "--format", "fhir", "--to", tmp_path / "mine")
    assert result.exit_code != 0 and "not a radlite export folder" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize("fmt", ["fhir", "omop"])
def test_export_needs_no_table_but_table_format_does(exported_out, tmp_path, fmt):
    assert run_cli("export", exported_out, "--to", tmp_path / "x.csv").exit_code != 0
    assert run_cli("export", exported_out, "--format", fmt, "--to", tmp_path / fmt).exit_code == 0


def _with(data: ExportData, report_id: str, version: int = 1, **changes) -> ExportData:
    """``data`` cut to one report, that report's row changed as the HL7 reader would fill it, at ``version``."""
    report = next(r for r in data.reports if r["report_id"] == report_id)
    return ExportData(reports=[{**report, **changes}], values=[v for v in data.values if v.report_id == report_id],
                      versions={report_id: version}, through_run=data.through_run)


def _both(data: ExportData) -> tuple[dict, list[dict], dict]:
    """The report's DiagnosticReport and Observations (validated) and its NOTE row."""
    resources = fhir.resources(data)
    for item in resources["DiagnosticReport"]:
        DiagnosticReport.model_validate(item)
    for item in resources["Observation"]:
        Observation.model_validate(item)
    ids = IdMap({"note": {r["report_id"]: 1 for r in data.reports},
                 "person": {r["patient_id"]: 1 for r in data.reports if r["patient_id"]},
                 "note_nlp": {value_key(v.report_id, v.key): i for i, v in enumerate(data.values, 1)}})
    tables = omop.tables(data, ids)
    return resources["DiagnosticReport"][0], resources["Observation"], tables


@pytest.mark.parametrize(("result_status", "version", "report_status", "observation_status"), [
    (None, 1, "final", "final"), (None, 2, "amended", "amended"), ("preliminary", 1, "preliminary", "preliminary"),
    ("final", 2, "final", "final"), ("corrected", 3, "corrected", "corrected"), ("amended", 2, "amended", "amended"),
    ("partial", 1, "partial", "preliminary"), ("registered", 1, "registered", "registered"),
    ("cancelled", 1, "cancelled", "cancelled"), ("unknown", 1, "unknown", "unknown"),
    ("no-such-status", 1, "unknown", "unknown")])
def test_status_follows_the_result_status_the_source_sent(exported_out, result_status, version, report_status,
                                                          observation_status):
    data = load(OutputStore(exported_out))
    report_id = next(v.report_id for v in data.values if v.kind == "chexpert")
    report, observations, tables = _both(_with(data, report_id, version, result_status=result_status))
    assert report["status"] == report_status
    assert observations and {o["status"] for o in observations} == {observation_status}
    assert tables["note"].column("note_source_value").to_pylist() == [
        f"{report_id};version={version};status={report_status}"]
    modifiers = tables["note_nlp"].column("term_modifiers").to_pylist()
    assert modifiers and all(f"report_version={version}, report_status={report_status}," in m for m in modifiers)


@pytest.mark.parametrize(("changes", "title"), [
    ({"examination": "MRA Head w and w/o Contrast"}, "MRA Head w and w/o Contrast"),
    ({"examination": None, "modality": "MR", "body_region": "head"}, "MR head"),
    ({"examination": None, "modality": "unknown", "body_region": "unknown"}, "Diagnostic imaging study")])
def test_exam_title_is_the_exam_sent_else_what_was_inferred_in_both_exports(exported_out, changes, title):
    data = load(OutputStore(exported_out))
    report, _, tables = _both(_with(data, data.reports[0]["report_id"], **changes))
    assert report["code"]["text"] == title
    assert tables["note"].column("note_title").to_pylist() == [title]


def test_export_json_is_a_bulk_data_manifest(exported_out, tmp_path):
    runs = OutputStore(exported_out).manifest().runs
    for fmt, since in (("fhir", None), ("fhir", runs[0]), ("omop", None)):
        target = tmp_path / f"{fmt}-{since}"
        assert run_cli("export", exported_out, "--format", fmt, "--to", target,
                       *(["--since", since] if since else [])).exit_code == 0
        manifest = json.load(open(target / "export.json"))
        assert {"transactionTime", "request", "requiresAccessToken", "output", "error"} <= set(manifest)
        assert datetime.fromisoformat(manifest["transactionTime"]).tzinfo is not None
        assert manifest["requiresAccessToken"] is False and manifest["error"] == []
        request = urlparse(manifest["request"])
        assert request.scheme == "file" and request.path.endswith("/$export")
        assert ("_since=" in request.query) == (since is not None)
        assert manifest["output"]
        for item in manifest["output"]:
            path = url2pathname(urlparse(item["url"]).path)
            assert os.path.isabs(path) and os.path.dirname(path) == str(target)
            if fmt == "fhir":
                lines = [json.loads(line) for line in open(path)]
                assert len(lines) == item["count"] and {r["resourceType"] for r in lines} <= {item["type"]}
            elif path.endswith(".parquet"):
                assert pq.read_metadata(path).num_rows == item["count"]
        types = [o["type"] for o in manifest["output"]]
        expected = ["DiagnosticReport", "Observation"] if fmt == "fhir" else ["NOTE", "NOTE", "NOTE_NLP", "NOTE_NLP"]
        assert types == expected


def test_each_value_carries_its_calibrated_confidence_in_both_exports(exported_out, tmp_path):
    """FHIR: the confidence extension of each finding's Observation is its row's confidence; OMOP NOTE_NLP,
    which has no column for it, says it first in term_modifiers (after a withheld mark)."""
    resources = _export(exported_out, str(tmp_path / "fhir"))
    store = OutputStore(exported_out)
    rows = {(r["report_id"], r["finding"]): r["confidence"] for r in store.read_table("abnormalities").to_pylist()
            if r["valid"] and r["status"] != "not_mentioned"}
    assert rows and all(c is not None and 0 <= c <= 1 for c in rows.values())
    by_report = {r["reference"].split("/")[1]: d["id"] for d in resources["DiagnosticReport"]
                 for r in d.get("result", [])}
    checked = 0
    for obs in resources["Observation"]:
        if _extension(obs, PROVENANCE_EXTENSION)["task"] == "abnormality_detection":
            (confidence,) = [e["valueDecimal"] for e in obs["extension"] if e["url"] == CONFIDENCE_EXTENSION]
            assert confidence == rows[(by_report[obs["id"]], obs["code"]["text"])]
            checked += 1
    assert checked == len(rows)
    value = replace(load(store).values[0], confidence=0.8731)
    assert omop._modifiers(value, None, 1, "final").startswith("confidence=0.8731, ")
    withheld = replace(value, withheld_reason="low confidence: calibrated confidence 0.30 is below 0.50")
    assert omop._modifiers(withheld, None, 1, "final").startswith("withheld=low confidence, confidence=0.8731, ")
