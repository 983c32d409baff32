"""FHIR R4 export: one DiagnosticReport per report and one Observation per structured value, written as
FHIR Bulk Data NDJSON (``DiagnosticReport.ndjson``, ``Observation.ndjson``: one resource per line).

The Patient is referenced by identifier (``subject.identifier``; no Patient resource is written, the
receiving server resolves it). Report text carries PHI: ``presentedForm``, ``conclusion`` and the
evidence words are written only with ``with_text``; offsets always are. Status, exam title and date are
decided in radlite.export.values (the same in OMOP). Codes come from codes.csv;
where it has none the value is coded in radlite's own code system (``RADLITE_CODES``) with its text.
docs/standards.md documents the extensions and the code table.
"""

from __future__ import annotations

import base64
import json
import os
from collections import defaultdict
from collections.abc import Mapping

from radlite.export.values import ExportData, StructuredValue, codes, exam_title, report_date, report_status
from radlite.hashing import stable_id
from radlite.tasks import task_tables
from radlite.tasks.table import DerivedMapping

#: Extension and system URIs: URNs, so no one mistakes them for resolvable profiles (docs/standards.md).
PROVENANCE_EXTENSION = "urn:radlite:fhir:StructureDefinition:provenance"
EVIDENCE_EXTENSION = "urn:radlite:fhir:StructureDefinition:evidence"
#: Marks a withheld value (exported only with --include-withheld); valueString: its withheld_reason.
WITHHELD_EXTENSION = "urn:radlite:fhir:StructureDefinition:withheld"
#: A value's calibrated confidence (radlite.confidence): R4's Observation has no field for it; valueDecimal 0..1.
CONFIDENCE_EXTENSION = "urn:radlite:fhir:StructureDefinition:confidence"
#: Observation.status of a withheld value: not a final result (hl7.org/fhir/R4/valueset-observation-status.html).
WITHHELD_STATUS = "preliminary"
REPORT_ID_SYSTEM = "urn:radlite:report-id"
DEFAULT_PATIENT_SYSTEM = "urn:radlite:patient-id"
#: radlite's code system for values no standard code is mapped to (RADS categories, stages, changes).
RADLITE_CODES = "urn:radlite:fhir:CodeSystem:value"
RESOURCE_TYPES = ("DiagnosticReport", "Observation")


def _coding(kind: str, name: str) -> dict | None:
    found = codes().get((kind, name))
    return {"system": found.system, "code": found.code, "display": found.display} if found else None


def _concept(kind: str, name: str, text: str) -> dict:
    """A CodeableConcept: the standard code when codes.csv has one, else radlite's, always with text."""
    coding = _coding(kind, name) or {"system": RADLITE_CODES, "code": f"{kind}:{name}"}
    return {"coding": [coding], "text": text}


def _subject(report: dict, patient_system: str) -> dict:
    return {"subject": {"identifier": {"system": patient_system, "value": report["patient_id"]}}} \
        if report["patient_id"] else {}


#: The FHIR way to say a value is missing and why (hl7.org/fhir/R4/extension-data-absent-reason.html).
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#: DiagnosticReport status -> Observation status, where Observation's value set lacks the report's code.
OBSERVATION_STATUS = {"partial": "preliminary", "appended": "amended"}


def _effective(report: dict) -> dict:
    """The study date; without one, effectiveDateTime is marked absent (reason ``unknown``) and no date is
    made up (OMOP's required note_date takes the acceptance day instead: values.report_date)."""
    study = report_date(report).study
    if study is None:
        return {"_effectiveDateTime": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}}
    return {"effectiveDateTime": study.date().isoformat()}


def _provenance(value: StructuredValue) -> dict:
    return {"url": PROVENANCE_EXTENSION, "extension": [
        {"url": "model_id", "valueString": value.model_id},
        {"url": "prompt_id", "valueString": value.prompt_id},
        {"url": "prompt_sha256", "valueString": value.prompt_sha256},
        {"url": "run_id", "valueString": value.run_id},
        {"url": "task", "valueString": value.task}]}


def _evidence(value: StructuredValue, with_text: bool) -> list[dict]:
    parts = []
    if value.evidence_start is not None and value.evidence_end is not None:
        parts += [{"url": "start", "valueInteger": value.evidence_start},
                  {"url": "end", "valueInteger": value.evidence_end}]
    if value.grounded is not None:
        parts.append({"url": "grounded", "valueBoolean": value.grounded})
    if with_text and value.evidence:
        parts.append({"url": "text", "valueString": value.evidence})
    return [{"url": EVIDENCE_EXTENSION, "extension": parts}] if parts else []


def _withheld(value: StructuredValue) -> list[dict]:
    """The withheld mark of a value exported with --include-withheld (none on a published value)."""
    return [{"url": WITHHELD_EXTENSION, "valueString": value.withheld_reason}] if value.withheld_reason else []


def _confidence(value: StructuredValue) -> list[dict]:
    """The value's calibrated confidence (none when it has none)."""
    return [] if value.confidence is None else [{"url": CONFIDENCE_EXTENSION, "valueDecimal": value.confidence}]


#: Kind of value -> its Observation's code text, as the task tables declare them (TaskTable.fhir_titles):
#: the kinds written as Observations.
OBSERVED_KINDS: Mapping[str, str] = DerivedMapping(
    lambda: {kind: title for table in task_tables().values() for kind, title in table.fhir_titles.items()})


def observation(value: StructuredValue, report: dict, status: str, patient_system: str, with_text: bool) -> dict:
    """One Observation: the value's code, its answer, its assertion and where it comes from; ``status`` is
    its report's."""
    name = value.name
    resource = {
        "resourceType": "Observation",
        "id": stable_id(value.report_id, value.key),
        "extension": [_provenance(value)] + _evidence(value, with_text) + _confidence(value) + _withheld(value),
        "status": WITHHELD_STATUS if value.withheld_reason else OBSERVATION_STATUS.get(status, status),
        "category": [{"coding": [_coding("category", "imaging")]}],
        "code": _concept("stage" if value.kind in ("n_stage", "m_stage") else value.kind, name,
                         OBSERVED_KINDS[value.kind].format(name=name) + (f" ({value.site})" if value.site else "")),
        **_subject(report, patient_system), **_effective(report),
    }
    if value.site:  # one site, side, lesion or primary of the report (its words; no code is mapped)
        resource["bodySite"] = {"text": value.site}
    if value.assertion is not None and value.kind == "chexpert":
        resource["valueCodeableConcept"] = _concept("assertion", value.assertion, value.assertion)
        resource["interpretation"] = [{"coding": [_coding("interpretation", value.assertion)]}]
    else:
        resource["valueCodeableConcept"] = {"coding": [{"system": RADLITE_CODES, "code": value.value}],
                                            "text": value.value}
    return resource


def diagnostic_report(report: dict, observations: list[dict], status: str, patient_system: str,
                      with_text: bool) -> dict:
    """The report: status, code and exam, its patient and date, its Observations; text only ``with_text``."""
    resource = {
        "resourceType": "DiagnosticReport",
        "id": report["report_id"],
        "identifier": [{"system": REPORT_ID_SYSTEM, "value": report["report_id"]}],
        "status": status,
        "category": [{"coding": [_coding("category", "radiology")]}],
        "code": _concept("report", "diagnostic_report", exam_title(report)),
        **_subject(report, patient_system), **_effective(report),
        "result": [{"reference": f"Observation/{o['id']}"} for o in observations],
    }
    if with_text:
        resource["presentedForm"] = [{"contentType": "text/plain; charset=utf-8",
                                      "data": base64.b64encode(report["text"].encode()).decode()}]
        if report["impression"]:
            resource["conclusion"] = report["impression"]
    return {k: v for k, v in resource.items() if v != []}


def resources(data: ExportData, patient_system: str = DEFAULT_PATIENT_SYSTEM,
              with_text: bool = False) -> dict[str, list[dict]]:
    """Resource type -> resources, for every report of ``data``."""
    by_report: dict[str, list[StructuredValue]] = defaultdict(list)
    for value in data.values:
        if value.kind in OBSERVED_KINDS:
            by_report[value.report_id].append(value)
    out: dict[str, list[dict]] = {t: [] for t in RESOURCE_TYPES}
    for report in data.reports:
        status = report_status(report, data.version(report["report_id"]))
        observations = [observation(v, report, status, patient_system, with_text)
                        for v in by_report[report["report_id"]]]
        out["DiagnosticReport"].append(diagnostic_report(report, observations, status, patient_system, with_text))
        out["Observation"].extend(observations)
    return out


def write_ndjson(data: ExportData, directory: str, patient_system: str = DEFAULT_PATIENT_SYSTEM,
                 with_text: bool = False) -> dict[str, int]:
    """Write ``<ResourceType>.ndjson`` files into ``directory``; returns resource type -> count."""
    counts = {}
    for resource_type, items in resources(data, patient_system, with_text).items():
        with open(os.path.join(directory, f"{resource_type}.ndjson"), "w") as fh:
            for item in items:
                fh.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
        counts[resource_type] = len(items)
    return counts
