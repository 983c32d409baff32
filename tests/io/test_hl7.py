"""HL7 v2 ORU^R01 input: one report per message, every malformed message one reject, corrections replace."""

import collections
import io
import os
import shutil

import pytest
from conftest import ROOT

from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.hl7 import MessageError, parse_oru, split_messages
from radlite.io.inputs import ColumnMapping, InputFormat, detect_format, expand_inputs
from radlite.rejects import RejectReason
from radlite.store import OutputStore

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "hl7")
BATCH = os.path.join(FIXTURES, "synthetic-oru-batch.hl7")
MSH = "MSH|^~\\&|SYNTHETIC-RIS|SYNTH|RADLITE|SYNTH|20240101||ORU^R01|CTL1|P|2.5.1"


def _run(paths, out, source=None):
    config = RunConfig(inputs=expand_inputs(list(paths), None, ColumnMapping(), source), out=str(out),
                       tasks=TaskOptions(tasks="none"))
    summary = run_etl(config)
    assert summary.read == summary.accepted + summary.rejected
    return summary


def _reports(out):
    return {r["locator"]: r for r in OutputStore(str(out)).read_table("reports").to_pylist()}


def test_batch_with_good_corrected_and_malformed_messages(tmp_path):
    summary = _run([BATCH], tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (8, 3, 5)
    rejects = OutputStore(str(tmp_path / "out")).read_table("rejects").to_pylist()
    assert collections.Counter(r["reason"] for r in rejects) == {
        "hl7_superseded": 1, "hl7_no_msh": 1, "hl7_wrong_message_type": 1, "hl7_no_text": 1, "hl7_bad_encoding": 1}
    reports = _reports(tmp_path / "out")
    assert sorted(reports) == [f"OBR-3=SYN-ACC-{n}^SYNTHETIC-RIS" for n in (1001, 1002, 1003)]
    corrected = reports["OBR-3=SYN-ACC-1003^SYNTHETIC-RIS"]
    assert "Mild cardiomegaly" in corrected["text"]  # the corrected version (OBR-25 = C), not the original


def test_fields_map_to_the_report_record(tmp_path):
    _run([BATCH], tmp_path / "out")
    chest = _reports(tmp_path / "out")["OBR-3=SYN-ACC-1001^SYNTHETIC-RIS"]
    assert (chest["patient_id"], chest["study_id"], chest["study_date"]) == ("SYN-P001", "SYN-ACC-1001", "2024-03-05")
    assert (chest["modality"], chest["body_region"]) == ("XR", "chest")
    # OBX lines joined in order; \.br\ \T\ \S\ \F\ \E\ \X2E\ decoded; the Z-segment ignored
    assert "INDICATION: Cough & fever.\nFINDINGS: There is a small left pleural effusion.\nNo pneumothorax." \
        in chest["text"]
    assert chest["text"].endswith("Ratio 1^2 | see \\ prior.")
    assert chest["impression"].startswith("Small left pleural effusion")
    ct = _reports(tmp_path / "out")["OBR-3=SYN-ACC-1002^SYNTHETIC-RIS"]  # LF-terminated segments, FT text
    assert (ct["modality"], ct["body_region"], ct["patient_id"]) == ("CT", "chest", "SYN-P002")
    assert "21" not in ct["text"]  # the NM observation is not report text


def test_correction_in_a_later_file_replaces_and_history_keeps_the_original(tmp_path):
    out = tmp_path / "out"
    first = tmp_path / "monday.hl7"
    with open(BATCH, newline="") as fh:
        batch = fh.read()
    first.write_text(batch[:batch.index("MSH|^~\\&|SYNTHETIC-RIS|SYNTH-HOSP|RADLITE|SYNTH-HOSP|20240307120000")],
                     newline="")
    _run([str(first)], out, source="ris-feed")
    assert "Mild cardiomegaly" not in _reports(out)["OBR-3=SYN-ACC-1003^SYNTHETIC-RIS"]["text"]
    later = tmp_path / "tuesday.hl7"
    shutil.copy(os.path.join(FIXTURES, "synthetic-oru-correction.hl7"), later)
    summary = _run([str(later)], out, source="ris-feed")
    assert (summary.read, summary.accepted_new) == (1, 1)
    reports = _reports(out)
    assert len(reports) == 3 and "Mild cardiomegaly" in reports["OBR-3=SYN-ACC-1003^SYNTHETIC-RIS"]["text"]
    history = [r for r in OutputStore(str(out)).read_table("reports", history=True).to_pylist()
               if r["locator"] == "OBR-3=SYN-ACC-1003^SYNTHETIC-RIS"]
    assert len(history) == 2 and len({r["report_id"] for r in history}) == 1


def test_mllp_framing_is_detected_and_read(tmp_path):
    path = os.path.join(FIXTURES, "synthetic-oru-mllp.hl7")
    assert detect_format(path) is InputFormat.HL7
    summary = _run([path], tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (2, 2, 0)
    assert set(_reports(tmp_path / "out")) == {"OBR-3=SYN-ACC-1001^SYNTHETIC-RIS", "OBR-3=SYN-ACC-1003^SYNTHETIC-RIS"}


@pytest.mark.parametrize("text, reason", [
    ("PID|1||P1\rOBX|1|TX|c||FINDINGS: x", RejectReason.HL7_NO_MSH),
    ("MSH|^~|A|B\rOBX|1|TX|c||FINDINGS: x", RejectReason.HL7_BAD_ENCODING),
    ("MSH|^^\\&|A|B|C|D|2024||ORU^R01|1|P|2.5.1\rOBX|1|TX|c||x", RejectReason.HL7_BAD_ENCODING),
    (MSH.replace("ORU^R01", "ORM^O01") + "\rOBX|1|TX|c||FINDINGS: x", RejectReason.HL7_WRONG_MESSAGE_TYPE),
    (MSH + "\rOBR|1||ACC1\rOBX|1|NM|c||5", RejectReason.HL7_NO_TEXT),
    (MSH + "\rOBR|1||ACC1\rOBX|1|TX|c||gone||||||D", RejectReason.HL7_NO_TEXT),
    (MSH.replace("CTL1", "") + "\rOBX|1|TX|c||FINDINGS: x", RejectReason.MISSING_FIELD),
])
def test_each_malformed_message_has_its_reason(text, reason):
    with pytest.raises(MessageError) as caught:
        parse_oru(text)
    assert caught.value.reason is reason and str(caught.value)


def test_missing_fields_fall_back_and_never_crash():
    report = parse_oru(MSH + "\rOBX|1|ST|c||Lungs clear.")  # no PID, no OBR: id from MSH-10
    assert (report.locator, report.patient_id, report.exam, report.study_date) == ("MSH-10=CTL1", None, None, None)
    report = parse_oru(MSH + "\rOBR|1|ORD9||^CT HEAD^L|||2024-13-45\rOBX|1|TX|c||Normal.~Second line.")
    assert (report.locator, report.exam, report.study_date) == ("OBR-2=ORD9", "CT HEAD", None)
    assert report.text == "Normal.\nSecond line."  # repetitions are lines


def test_segment_terminators_and_batch_wrappers_split_messages():
    good = MSH + "\rOBR|1||A{n}\rOBX|1|TX|c||Text {n}."
    for joiner in ("\r", "\n", "\r\n"):
        data = joiner.join(["FHS|^~\\&", "BHS|^~\\&", good.format(n=1).replace("\r", joiner),
                            good.format(n=2).replace("\r", joiner), "BTS|2", "FTS|1", ""])
        messages = list(split_messages(io.BytesIO(data.encode()), 10_000))
        assert [m.number for m in messages] == [1, 2]
        assert [parse_oru("\r".join(s.decode() for s in m.segments)).locator for m in messages] == ["OBR-3=A1",
                                                                                                     "OBR-3=A2"]
