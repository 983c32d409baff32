import collections

from etl_helpers import ingest, table_rows, write_bad_inputs, write_good_folder

from radlite.store import OutputStore


def test_every_planted_bad_input_becomes_one_reject_row(tmp_path):
    expected = write_bad_inputs(str(tmp_path / "in"))
    summary = ingest([str(tmp_path / "in" / "*")], str(tmp_path / "out"))
    rejects = OutputStore(str(tmp_path / "out")).read_table("rejects").to_pylist()
    assert collections.Counter(r["reason"] for r in rejects) == expected
    assert summary.rejected_by_reason == expected
    assert summary.read == summary.accepted + summary.rejected
    # good records: one zip member, one CSV row, one JSONL line
    assert summary.accepted == 3
    reports = OutputStore(str(tmp_path / "out")).read_table("reports")
    assert reports.num_rows == 3
    assert all(r["message"] for r in rejects)


def test_mimic_zip_layout_gives_patient_and_study(tmp_path):
    write_bad_inputs(str(tmp_path / "in"))
    ingest([str(tmp_path / "in" / "bad.zip")], str(tmp_path / "out"))
    row = OutputStore(str(tmp_path / "out")).read_table("reports").to_pylist()[0]
    assert (row["patient_id"], row["study_id"]) == ("10000001", "50000001")
    assert row["modality"] == "XR" and row["body_region"] == "chest"
    assert row["impression"] == "No acute process. 1"


def test_sample_data_accounts_for_every_record(tmp_path, sample_reports_dir):
    summary = ingest([sample_reports_dir + "/*"], str(tmp_path / "out"), max_report_bytes=256 * 1024)
    assert summary.read == summary.accepted + summary.rejected
    assert summary.rejected == 7
    assert summary.accepted >= 60


def test_csv_section_columns_are_assembled_into_sections(tmp_path):
    path = tmp_path / "ct.csv"
    path.write_text("VolumeName,Findings_EN,Impressions_EN\nv1,Liver lesion 2 cm.,Hepatic metastasis.\n")
    ingest([str(path)], str(tmp_path / "out"))
    row = OutputStore(str(tmp_path / "out")).read_table("reports").to_pylist()[0]
    assert row["findings"] == "Liver lesion 2 cm."
    assert row["impression"] == "Hepatic metastasis."
    assert row["locator"] == "id=v1"


def test_rerun_adds_nothing_and_one_new_report_adds_exactly_its_rows(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 5)
    first = ingest([str(src)], out)
    assert first.accepted_new == 5
    before = {t: table_rows(out, t) for t in ("reports", "rejects")}
    second = ingest([str(src)], out)
    assert (second.accepted_new, second.skipped_unchanged) == (0, 5)
    assert {t: table_rows(out, t) for t in ("reports", "rejects")} == before
    write_good_folder(str(src), 1, start=5)
    third = ingest([str(src)], out)
    assert third.accepted_new == 1
    after = table_rows(out, "reports")
    assert len(after) == 6 and set(before["reports"]) < set(after)
    assert OutputStore(out).read_table("runs").num_rows == 3


def test_changed_report_text_is_reprocessed(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 2)
    ingest([str(src)], out)
    (src / "r00000.txt").write_text("FINDINGS: New text after an addendum.")
    summary = ingest([str(src)], out)
    assert (summary.accepted_new, summary.skipped_unchanged) == (1, 1)


def test_full_reprocesses_everything(tmp_path):
    src, out = tmp_path / "in", str(tmp_path / "out")
    write_good_folder(str(src), 3)
    ingest([str(src)], out)
    assert ingest([str(src)], out, full=True).accepted_new == 3
