"""Write sample_data/: small archives in every supported input format, mostly SYNTHETIC.

    python -m training.data.sample_data sample_data

Reports go to sample_data/reports/, the registry questions to sample_data/questions.yaml.

Synthetic files say so in their names. A few deliberately bad records are planted (see
sample_data/README.md) so a first run shows the rejects table at work. When ../shared/data holds
the public IU X-ray (Open-i) reports, a small real subset is copied in with its attribution.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq

from training.data.sources.openi import read_test_ids
from training.data.synthetic_reports import generate_reports

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
IU_XRAY = os.path.join(SHARED_DATA, "iu-xray", "indiana_reports.csv")
#: NegBio's fixed test list: its reports never go into the sample (a sample run would show them).
TEST_LIST = os.path.join(SHARED_DATA, "negbio", "openi-testset.txt")


def write_mimic_zip(path: str, reports) -> None:
    """MIMIC-CXR layout: files/pNN/pNNNNNNNN/sNNNNNNNN.txt (synthetic ids)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, r in enumerate(reports):
            patient = 19000000 + i
            zf.writestr(f"files/p{str(patient)[:2]}/p{patient}/s{59000000 + i}.txt", r.text)
        zf.writestr("files/p19/p19999999/s59999999.txt", "FINDINGS: Lungs clear \xe9".encode("latin-1"))  # not UTF-8


def write_folder(path: str, reports) -> None:
    os.makedirs(path, exist_ok=True)
    for r in reports:
        with open(os.path.join(path, f"{r.report_id}.txt"), "w") as fh:
            fh.write(r.text)
    open(os.path.join(path, "synthetic-empty.txt"), "w").close()  # planted: empty
    with open(os.path.join(path, "synthetic-binary.txt"), "wb") as fh:  # planted: binary
        fh.write(bytes(range(256)) * 4)


def write_ct_rate_csv(path: str, reports) -> None:
    """CT-RATE-style export: VolumeName, Findings_EN, Impressions_EN."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["VolumeName", "Findings_EN", "Impressions_EN"])
        for r in reports:
            findings = r.text.split("FINDINGS:\n", 1)[1].split("IMPRESSION:")[0].strip()
            writer.writerow([r.report_id, findings, r.truth["impression_generation"]])
        fh.write('synthetic-malformed,"only two fields"\n')  # planted: wrong field count


def write_jsonl(path: str, reports) -> None:
    with open(path, "w") as fh:
        for r in reports:
            fh.write(json.dumps({"id": r.report_id, "text": r.text, "synthetic": True}) + "\n")
        fh.write('{"id": "synthetic-broken", "text": "unterminated\n')  # planted: malformed JSON


def write_parquet(path: str, reports) -> None:
    ids = [r.report_id for r in reports] + [reports[0].report_id]  # planted: duplicate id
    texts = [r.text for r in reports] + ["FINDINGS: A second record claiming the first record's id."]
    table = pa.table({"report_id": ids, "report_text": texts})
    pq.write_table(table, path)


def write_iu_xray(path: str, limit: int = 20) -> bool:
    """The first ``limit`` IU X-ray (Open-i) reports off NegBio's test list, when ../shared/data has
    the reports and the list (without the list, none: a test-list report must not be copied in)."""
    if not (os.path.exists(IU_XRAY) and os.path.exists(TEST_LIST)):
        return False
    test_list = read_test_ids(TEST_LIST)
    with open(IU_XRAY, newline="") as src, open(path, "w", newline="") as dst:
        rows = (row for row in csv.DictReader(src) if f"CXR{row['uid']}" not in test_list)
        writer = csv.writer(dst)
        writer.writerow(["uid", "indication", "comparison", "findings", "impression"])
        for _, row in zip(range(limit), rows):
            writer.writerow([row["uid"], row["indication"], row["comparison"], row["findings"], row["impression"]])
    return True


def write_questions(path: str) -> None:
    with open(path, "w") as fh:
        fh.write(
            "# Registry questions asked of every report (radiology_qa).\n"
            "# With `choices`, the answer is decoded under a grammar and is exactly one of them.\n"
            "questions:\n"
            "  - id: effusion\n"
            "    question: Is there a pleural effusion?\n"
            '    choices: ["yes", "no", "not stated"]\n'
            "  - id: followup\n"
            "    question: What follow-up does the report recommend?\n"
        )


def build_sample_data(directory: str) -> None:
    reports_dir = os.path.join(directory, "reports")
    os.makedirs(reports_dir, exist_ok=True)
    cxr = generate_reports(10, seed=1, kinds=("chest_xr",))
    mixed = generate_reports(9, seed=2)
    ct = generate_reports(6, seed=3, kinds=("ct_oncology",))
    rads = generate_reports(10, seed=4, kinds=("rads",))
    more_rads = generate_reports(10, seed=5, kinds=("rads",))
    write_mimic_zip(os.path.join(reports_dir, "synthetic-mimic-cxr.zip"), cxr)
    write_folder(os.path.join(reports_dir, "synthetic-reports-folder"), mixed)
    write_ct_rate_csv(os.path.join(reports_dir, "synthetic-ct-rate-style.csv"), ct)
    write_jsonl(os.path.join(reports_dir, "synthetic-rads.jsonl"), rads)
    write_parquet(os.path.join(reports_dir, "synthetic-reports.parquet"), more_rads[:8])
    write_iu_xray(os.path.join(reports_dir, "iu-xray-openi-sample.csv"))
    write_questions(os.path.join(directory, "questions.yaml"))


if __name__ == "__main__":
    build_sample_data(sys.argv[1] if len(sys.argv) > 1 else "sample_data")
