"""A stage stated with a pathologic prefix (pN1, ypN0, pM1) is exported with LOINC's pathologic codes,
an unprefixed or clinical one (N2, cN2, M0) with the clinical codes."""

import json
import os

import yaml
from conftest import run_cli

RULES_ONLY = {"name": "stages-by-rules", "models": {"rules": {"kind": "rules"}},
              "tasks": {"n_staging": "rules", "m_staging": "rules"}}
#: Written for this test (SYNTHETIC): one stage statement per report.
REPORTS = {
    "pathologic.txt": "EXAMINATION: CT CHEST\nFINDINGS: Status post right upper lobectomy for adenocarcinoma, "
                      "pT2a pN1 M0 staging.\nIMPRESSION: No recurrence.",
    "post-therapy.txt": "EXAMINATION: CT ABDOMEN\nFINDINGS: Rectal adenocarcinoma after neoadjuvant therapy, "
                        "ypT2 ypN0 staging.\nIMPRESSION: No metastasis.",
    "clinical.txt": "EXAMINATION: CT CHEST\nFINDINGS: Left lower lobe mass, staged cT3 cN2 M0.\nIMPRESSION: As above.",
}


def test_pathologic_and_clinical_stages_get_their_own_loinc_codes(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in REPORTS.items():
        (folder / name).write_text(text)
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump(RULES_ONLY))
    out, target = tmp_path / "out", tmp_path / "fhir"
    ran = run_cli("run", folder, "--out", out, "--routing", routing, "--tasks", "n_staging,m_staging", "--quiet")
    assert ran.exit_code == 0, ran.output
    exported = run_cli("export", out, "--format", "fhir", "--to", target)
    assert exported.exit_code == 0, exported.output
    codes = sorted((o["valueCodeableConcept"]["text"], o["code"]["coding"][0]["code"])
                   for o in map(json.loads, open(os.path.join(target, "Observation.ndjson"))))
    # M0 unprefixed (and "No metastasis" read as M0): clinical
    assert codes == [("M0", "21907-1"), ("M0", "21907-1"), ("M0", "21907-1"),
                     ("N0", "21900-6"), ("N1", "21900-6"),      # ypN0, pN1: pathologic regional nodes
                     ("N2", "21906-3")]                         # cN2: clinical
