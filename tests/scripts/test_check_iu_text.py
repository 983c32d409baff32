"""scripts/check_iu_text.py finds a report's text in a wheel-like zip and passes a clean folder."""

import csv
import subprocess
import sys
import zipfile

from conftest import ROOT

FINDINGS = "The cardiac silhouette is mildly enlarged. Small left basilar opacity likely atelectasis and no effusion."
COMMON = "The lungs are clear and there is no pneumothorax or pleural effusion seen."


def _reports(path):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["uid", "findings", "impression"])
        writer.writerow(["1", FINDINGS, "Cardiomegaly."])
        writer.writerow(["2", COMMON, "No acute disease."])
        writer.writerow(["3", COMMON, "Normal chest."])


def _check(*args):
    return subprocess.run([sys.executable, "scripts/check_iu_text.py", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def test_a_report_in_a_wheel_is_found_and_common_wording_is_not(tmp_path):
    reports = tmp_path / "reports.csv"
    _reports(reports)
    wheel = tmp_path / "pkg.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/smoke.jsonl", '{"input": "FINDINGS: ' + FINDINGS.replace(" ", "  ") + '"}\n')
        archive.writestr("pkg/model.gguf", b"GGUF\0\0" + FINDINGS.encode())
    clean = tmp_path / "docs"
    clean.mkdir()
    (clean / "page.md").write_text(f"Shared wording is not one report's text: {COMMON}\n")
    found = _check(wheel, clean, "--reports", reports)
    assert found.returncode == 1 and found.stdout.count("CXR1") == 2  # the whole findings and its long sentence
    assert "model.gguf" not in found.stdout and "page.md" not in found.stdout
    assert _check(clean, "--reports", reports).returncode == 0
    assert _check(clean, "--reports", tmp_path / "missing.csv").returncode == 2
