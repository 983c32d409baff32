"""HL7 v2 ORU^R01 input: one report per order, every malformed message or order one reject, later versions
replace earlier ones whatever the file order, legacy character sets decoded, laboratory results kept out."""

import collections
import glob
import io
import os
import shutil

import pytest
from conftest import ROOT, run_cli

from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.hl7 import CHARSETS, MessageError, RawMessage, message_charset, parse_oru, split_messages
from radlite.io.inputs import ColumnMapping, InputFormat, detect_format, expand_inputs
from radlite.rejects import RejectReason
from radlite.store import OutputStore

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "hl7")
EXTERNAL = os.path.join(FIXTURES, "external")
BATCH = os.path.join(FIXTURES, "synthetic-oru-batch.hl7")
MSH = "MSH|^~\\&|SYNTHETIC-RIS|SYNTH|RADLITE|SYNTH|20240101||ORU^R01|CTL1|P|2.5.1"


def _run(paths, out, source=None, sections=None):
    config = RunConfig(inputs=expand_inputs(list(paths), None, ColumnMapping(), source, radiology_sections=sections),
                       out=str(out), tasks=TaskOptions(tasks="none"))
    summary = run_etl(config)
    assert summary.read == summary.accepted + summary.rejected
    return summary


def _reports(out):
    return {r["locator"]: r for r in OutputStore(str(out)).read_table("reports").to_pylist()}


def _rejects(out):
    return OutputStore(str(out)).read_table("rejects").to_pylist()


def _outcomes(text):
    """The reason of each order of one message (or of the whole message), None for a report."""
    try:
        return [None if not isinstance(r, MessageError) else r.reason for r in parse_oru(text)]
    except MessageError as exc:
        return [exc.reason]


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
    (MSH + "\rOBR|1||ACC1\rOBX|1|TX|c||^", RejectReason.HL7_NO_TEXT),
    (MSH.replace("CTL1", "") + "\rOBX|1|TX|c||FINDINGS: x", RejectReason.MISSING_FIELD),
])
def test_each_malformed_message_has_its_reason(text, reason):
    assert _outcomes(text) == [reason]


def test_missing_fields_fall_back_and_never_crash():
    report, = parse_oru(MSH + "\rOBX|1|ST|c||Lungs clear.")  # no PID, no OBR: id from MSH-10
    assert (report.locator, report.patient_id, report.exam, report.study_date) == ("MSH-10=CTL1", None, None, None)
    report, = parse_oru(MSH + "\rOBR|1|ORD9||^CT HEAD^L|||2024-13-45\rOBX|1|TX|c||Normal.~Second line.")
    assert (report.locator, report.exam, report.study_date, report.result_status) == ("OBR-2=ORD9", "CT HEAD", None,
                                                                                      None)
    assert report.text == "Normal.\nSecond line."  # repetitions are lines


def test_segment_terminators_and_batch_wrappers_split_messages():
    good = MSH + "\rOBR|1||A{n}\rOBX|1|TX|c||Text {n}."
    for joiner in ("\r", "\n", "\r\n"):
        data = joiner.join(["FHS|^~\\&", "BHS|^~\\&", good.format(n=1).replace("\r", joiner),
                            good.format(n=2).replace("\r", joiner), "BTS|2", "FTS|1", ""])
        messages = list(split_messages(io.BytesIO(data.encode()), 10_000))
        assert [m.number for m in messages] == [1, 2]
        assert [parse_oru("\r".join(s.decode() for s in m.segments))[0].locator for m in messages] == [
            "OBR-3=A1", "OBR-3=A2"]


@pytest.mark.parametrize("obr25, status", [("P", "preliminary"), ("F", "final"), ("C", "corrected"),
                                           ("A", "partial"), ("R", "partial"), ("X", "cancelled"), ("Q", "unknown")])
def test_result_status_is_obr25_in_fhir_words(obr25, status):
    report, = parse_oru(MSH + f"\rOBR|1||ACC1|^XR CHEST{'|' * 21}{obr25}\rOBX|1|TX|c||Lungs clear.")
    assert report.result_status == status


def _versions(*names):
    return [os.path.join(FIXTURES, f"synthetic-oru-versions-{name}.hl7") for name in names]


@pytest.mark.parametrize("order", [("a-tue", "b-wed", "c-mon"), ("c-mon", "b-wed", "a-tue"), ("b-wed", "c-mon",
                                                                                               "a-tue")])
def test_versions_in_several_files_form_one_report_whatever_the_file_order(tmp_path, order):
    """Monday's preliminary, Tuesday's final and Wednesday's correction of one accession, in any
    input order: one report, the correction, with status corrected; the others superseded."""
    summary = _run(_versions(*order), tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (3, 1, 2)
    report, = _reports(tmp_path / "out").values()
    assert (report["result_status"], report["study_id"]) == ("corrected", "SYN-ACC-6001")
    assert "right middle lobe (corrected lobe)" in report["text"]
    superseded = [r for r in _rejects(tmp_path / "out") if r["reason"] == "hl7_superseded"]
    assert len(superseded) == 2 and all("synthetic-oru-versions-b-wed.hl7" in r["message"] for r in superseded)


def test_a_glob_of_daily_files_gives_one_report(tmp_path):
    summary = _run([os.path.join(FIXTURES, "synthetic-oru-versions-*.hl7")], tmp_path / "out")
    assert (summary.accepted, summary.rejected) == (1, 2)
    assert next(iter(_reports(tmp_path / "out").values()))["result_status"] == "corrected"


def test_preliminary_then_final_is_final_and_the_versions_stay_in_history(tmp_path):
    out = tmp_path / "out"
    _run(_versions("c-mon"), out)
    first, = _reports(out).values()
    assert first["result_status"] == "preliminary"
    _run(_versions("a-tue"), out)  # another file, another run: the same report, now final
    current, = _reports(out).values()
    assert (current["report_id"], current["result_status"]) == (first["report_id"], "final")
    assert "Lung-RADS 3" in current["text"]
    history = OutputStore(str(out)).read_table("reports", history=True).to_pylist()
    assert sorted(r["result_status"] for r in history) == ["final", "preliminary"]
    assert {r["report_id"] for r in history} == {first["report_id"]}


def test_a_preliminary_sent_in_a_later_run_does_not_replace_the_committed_final(tmp_path):
    out = tmp_path / "out"
    _run(_versions("a-tue"), out)
    summary = _run(_versions("c-mon"), out)
    assert (summary.read, summary.rejected) == (1, 1)
    report, = _reports(out).values()
    assert report["result_status"] == "final" and "Lung-RADS 3" in report["text"]
    reject, = _rejects(out)
    assert reject["reason"] == "hl7_superseded" and "committed this result as final" in reject["message"]


def test_a_final_is_not_replaced_by_a_preliminary_sent_later_in_the_run(tmp_path):
    late = tmp_path / "late-preliminary.hl7"
    with open(_versions("c-mon")[0], newline="") as fh:  # Monday's preliminary, resent on Thursday
        late.write_text(fh.read().replace("20240410090000", "20240413090000").replace("20240410085500",
                                                                                      "20240413085500"), newline="")
    _run(_versions("a-tue") + [str(late)], tmp_path / "out")
    report, = _reports(tmp_path / "out").values()
    assert report["result_status"] == "final"


def test_every_order_of_a_message_is_its_own_report(tmp_path):
    summary = _run([os.path.join(FIXTURES, "synthetic-oru-two-orders.hl7")], tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (2, 2, 0)
    reports = _reports(tmp_path / "out")
    abdomen = reports["OBR-3=SYN-ACC-3001^SYNTHETIC-RIS"]
    chest = reports["OBR-3=SYN-ACC-3002^SYNTHETIC-RIS"]
    assert (abdomen["examination"], abdomen["study_date"], abdomen["body_region"]) == (
        "CT ABDOMEN AND PELVIS WITH CONTRAST", "2024-04-01", "abdomen")
    assert (chest["examination"], chest["study_id"], chest["body_region"]) == ("CT CHEST WITH CONTRAST",
                                                                               "SYN-ACC-3002", "chest")
    assert "nodule" in chest["text"] and "nodule" not in abdomen["text"]
    assert "liver" in abdomen["text"] and "liver" not in chest["text"]


def test_each_dropped_order_is_one_reject_naming_it(tmp_path):
    """HAPI's three-order CT message (its OBX text was flattened onto the first OBR line): three
    rejects, one per accession, none lost."""
    summary = _run([os.path.join(EXTERNAL, "hapi-ct-three-orders-oru.hl7")], tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (3, 0, 3)
    rejects = _rejects(tmp_path / "out")
    assert {r["reason"] for r in rejects} == {"hl7_no_text"}
    assert sorted(r["locator"] for r in rejects) == [
        f"message=1;order={n};OBR-3=000000056{5 + n}^RADIS1" for n in (1, 2, 3)]


def test_the_exam_name_arrives_as_sent(tmp_path):
    _run([os.path.join(EXTERNAL, "hapi-mra-head-oru.hl7")], tmp_path / "out")
    report, = _reports(tmp_path / "out").values()
    assert (report["locator"], report["examination"], report["modality"]) == (
        "OBR-2=3415770735^HNAM_ORDERID", "MRA Head w and w/o Contrast", "MR")
    assert report["text"] == "This\nIs\nA\nReport" and report["result_status"] is None


def test_an_external_final_echo_report_keeps_its_status_and_exam(tmp_path):
    _run([os.path.join(EXTERNAL, "linuxforhealth-echo-cardiogram-oru.hl7")], tmp_path / "out")
    report, = _reports(tmp_path / "out").values()
    assert (report["examination"], report["result_status"], report["modality"]) == ("ECHO CARDIOGRAM COMPLETE",
                                                                                    "final", "US")
    assert report["text"].startswith("[PII] Emergency Department")


def test_laboratory_results_are_kept_out_with_their_own_reason(tmp_path):
    summary = _run([os.path.join(FIXTURES, "synthetic-oru-lab.hl7")], tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (4, 1, 3)
    assert list(_reports(tmp_path / "out")) == ["OBR-3=SYN-ACC-4001^SYNTHETIC-RIS"]
    rejects = {r["locator"].split(";")[-1]: r for r in _rejects(tmp_path / "out")}
    assert {r["reason"] for r in rejects.values()} == {"hl7_not_radiology"}
    assert "section HM is not radiology" in rejects["OBR-3=SYN-LAB-1^SYNTHETIC-RIS"]["message"]
    assert "section BG is not radiology" in rejects["OBR-3=SYN-LAB-2^SYNTHETIC-RIS"]["message"]
    assert "OBR-24 is empty" in rejects["OBR-3=SYN-LAB-3^SYNTHETIC-RIS"]["message"]  # cholesterol: no section


def test_the_radiology_sections_are_configurable(tmp_path):
    _run([os.path.join(FIXTURES, "synthetic-oru-lab.hl7")], tmp_path / "out", sections=("RAD", "hm"))
    assert sorted(_reports(tmp_path / "out")) == ["OBR-3=SYN-ACC-4001^SYNTHETIC-RIS", "OBR-3=SYN-LAB-1^SYNTHETIC-RIS"]


def test_the_radiology_sections_are_a_run_option(tmp_path):
    result = run_cli("run", os.path.join(FIXTURES, "synthetic-oru-lab.hl7"), "--out", tmp_path / "out", "--tasks",
                     "none", "--hl7-radiology-section", "RAD", "--hl7-radiology-section", "BG", "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(_reports(tmp_path / "out")) == ["OBR-3=SYN-ACC-4001^SYNTHETIC-RIS", "OBR-3=SYN-LAB-2^SYNTHETIC-RIS"]


def test_legacy_character_sets_are_decoded(tmp_path):
    summary = _run([os.path.join(FIXTURES, f"synthetic-oru-8859-{part}.hl7") for part in (2, 1)], tmp_path / "out")
    assert (summary.accepted, summary.rejected) == (2, 0)
    reports = _reports(tmp_path / "out")
    assert "Płuca bez zmian ogniskowych. Serce niepowiększone." in reports["OBR-3=SYN-ACC-5001^SYNTHETIC-RIS"]["text"]
    german = reports["OBR-3=SYN-ACC-5002^SYNTHETIC-RIS"]
    assert "unauffällig, kein Pleuraerguß" in german["text"] and german["examination"] == "RÖNTGEN THORAX"


def test_an_undecodable_or_unknown_character_set_is_one_reject_each(tmp_path):
    summary = _run([os.path.join(FIXTURES, "synthetic-oru-bad-charset.hl7")], tmp_path / "out")
    assert (summary.read, summary.accepted, summary.rejected) == (2, 0, 2)
    messages = sorted(r["message"] for r in _rejects(tmp_path / "out") if r["reason"] == "hl7_bad_charset")
    assert len(messages) == 2
    assert "'UNICODE UTF-16' is not one RadLite decodes" in messages[0] and "is not valid ASCII" in messages[1]


@pytest.mark.parametrize("charset", sorted(CHARSETS))
def test_each_declared_character_set_is_read_from_msh18(charset):
    raw = RawMessage(1, [f"{MSH}||||||{charset}~ISO IR87".encode("ascii"), b"OBX|1|TX|c||x"])  # MSH-18
    assert message_charset(raw) == charset


def test_every_external_message_ends_as_reports_or_one_reject_per_order(tmp_path):
    """Messages from HAPI, nHapi, python-hl7, HL7-dotnetcore and LinuxForHealth test suites (one of them a
    NIST sample), listed with source and licence in external/PROVENANCE.md."""
    expected = {
        "hapi-mra-head-oru.hl7": (1, []),
        "hapi-ct-three-orders-oru.hl7": (0, ["hl7_no_text"] * 3),
        "python-hl7-glucose-oru.hl7": (0, ["hl7_no_text"]),
        "nhapi-cbc-oru.hl7": (0, ["hl7_not_radiology"]),
        "hl7-dotnetcore-lh-fsh-oru.hl7": (0, ["hl7_no_text"] * 2),
        "hl7-dotnetcore-sca-oru.hl7": (0, ["hl7_no_text"]),
        "linuxforhealth-echo-cardiogram-oru.hl7": (1, []),
        "linuxforhealth-echo-two-reports-oru.hl7": (0, ["hl7_bad_encoding"]),  # MSH-2 "^~\\&": "\" twice
        "linuxforhealth-nist-hepatitis-oru.hl7": (0, ["hl7_no_text"]),
    }
    paths = sorted(glob.glob(os.path.join(EXTERNAL, "*.hl7")))
    assert sorted(os.path.basename(p) for p in paths) == sorted(expected)
    summary = _run(paths, tmp_path / "out")
    assert summary.read == summary.accepted + summary.rejected
    reports = OutputStore(str(tmp_path / "out")).read_table("reports").to_pylist()
    rejects = _rejects(tmp_path / "out")
    for name, (_, reasons) in expected.items():
        path = os.path.abspath(os.path.join(EXTERNAL, name))
        found = sorted(r["reason"] for r in rejects if r["source"] == path)
        assert found == reasons, name
        assert all(r["message"] for r in rejects if r["source"] == path)
    assert len(reports) == sum(accepted for accepted, _ in expected.values())
