"""OMOP ids never change: two accessions (and two patients) whose 31-bit hashes collide keep their own ids
through `--since` exports, full exports and a new version of a report; the ids come from OUT's id map.

The input is a hand-written synthetic CSV (accession, patient, date, text); the colliding accessions and
patients were found by a brute-force search over ``ACC%07d`` / ``PAT%07d`` with the hash the ids used to be
(the first 31 bits of SHA-256 of the report id or patient id), and ``test_the_pair_collides`` keeps that true.
"""

import csv
import hashlib
import os
import shutil
import threading

import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.export.ids import ID_MAP_SCHEMA
from radlite.export.standard import export_standard
from radlite.hashing import stable_id
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.store import OutputStore

SOURCE = "collision-batch"
ACCESSIONS = ("ACC0020739", "ACC0040411")
PATIENTS = ("PAT0014962", "PAT0043313")
TEXT = "EXAMINATION: CHEST (PA AND LAT)\nFINDINGS: {finding}\nIMPRESSION: {impression}\n"
ROWS = {
    ACCESSIONS[0]: (PATIENTS[0], "2024-01-02", TEXT.format(finding="Small left pleural effusion.",
                                                           impression="Left pleural effusion.")),
    ACCESSIONS[1]: (PATIENTS[1], "", TEXT.format(finding="No pneumothorax. Mild cardiomegaly.",
                                                 impression="Cardiomegaly.")),
}


def legacy_id31(value: str) -> int:
    """The note_id / person_id hash of earlier releases."""
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big") & 0x7FFFFFFF or 1


def test_the_pair_collides():
    report_ids = [stable_id(SOURCE, f"id={a}") for a in ACCESSIONS]
    assert legacy_id31(report_ids[0]) == legacy_id31(report_ids[1])
    assert legacy_id31(PATIENTS[0]) == legacy_id31(PATIENTS[1])


def _run(tmp_path, rows: dict[str, tuple[str, str, str]]) -> str:
    """One run over a CSV holding ``rows``; returns its run id."""
    path = tmp_path / "batch.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["accession", "patient", "study_date", "text"])
        writer.writerows([accession, *row] for accession, row in rows.items())
    inputs = expand_inputs([str(path)], None, ColumnMapping(patient_column="patient", date_column="study_date"),
                           source=SOURCE)
    return run_etl(RunConfig(inputs=inputs, out=str(tmp_path / "out"),
                             tasks=TaskOptions(tasks="abnormality_detection"))).run_id


def _export(tmp_path, name, *extra) -> dict[str, list[dict]]:
    target = tmp_path / name
    result = run_cli("export", tmp_path / "out", "--format", "omop", "--to", target, *extra)
    assert result.exit_code == 0, result.output
    return {t: pq.read_table(target / f"{t}.parquet").to_pylist() for t in ("note", "note_nlp")}


def _ids(tables) -> dict:
    """accession -> (note_id, person_id, version), and (accession, value words) -> note_nlp_id."""
    accession_of = {stable_id(SOURCE, f"id={a}"): a for a in ACCESSIONS}
    notes = {}
    for n in tables["note"]:
        report_id, version, _ = n["note_source_value"].split(";")
        notes[accession_of[report_id]] = (n["note_id"], n["person_id"], version)
    accession_by_note = {note_id: a for a, (note_id, _, _) in notes.items()}
    values = {}
    for v in tables["note_nlp"]:
        modifiers = dict(part.split("=", 1) for part in v["term_modifiers"].split(", "))
        claim = tuple(modifiers.get(k) for k in ("kind", "name", "value", "span"))
        values[(accession_by_note[v["note_id"]], claim)] = v["note_nlp_id"]
    return {"notes": notes, "values": values}


@pytest.fixture(scope="module")
def runs_and_exports(tmp_path_factory):
    """Run 1 brings the first accession, run 2 the colliding one, run 3 a new text of the first; an export
    follows each run (full, --since, full, --since) and a last full export ends the sequence."""
    tmp_path = tmp_path_factory.mktemp("collisions")
    first = {ACCESSIONS[0]: ROWS[ACCESSIONS[0]]}
    run1 = _run(tmp_path, first)
    exports = {"full1": _export(tmp_path, "full1")}
    run2 = _run(tmp_path, ROWS)
    exports["since1"] = _export(tmp_path, "since1", "--since", run1)
    exports["full2"] = _export(tmp_path, "full2")
    patient, day, text = ROWS[ACCESSIONS[0]]
    _run(tmp_path, {**ROWS, ACCESSIONS[0]: (patient, day, text.replace("Small", "Moderate"))})
    exports["since2"] = _export(tmp_path, "since2", "--since", run2)
    exports["full3"] = _export(tmp_path, "full3")
    return tmp_path, {name: _ids(tables) for name, tables in exports.items()}


def test_colliding_accessions_and_patients_keep_their_ids_in_every_export(runs_and_exports):
    tmp_path, exports = runs_and_exports
    first, second = ACCESSIONS
    assert set(exports["full1"]["notes"]) == {first} and set(exports["since1"]["notes"]) == {second}
    note_of = {a: exports["full3"]["notes"][a][:2] for a in ACCESSIONS}
    assert note_of[first][0] != note_of[second][0] and note_of[first][1] != note_of[second][1]
    for name, ids in exports.items():  # every export says the same id for the same report and patient
        for accession, (note_id, person_id, _) in ids["notes"].items():
            assert (note_id, person_id) == note_of[accession], (name, accession)
    assert exports["full2"]["notes"][first][2] == "version=1" and exports["full3"]["notes"][first][2] == "version=2"
    assert set(exports["since2"]["notes"]) == {first}  # only the report with a new text


def test_a_value_keeps_its_note_nlp_id_and_ids_are_never_shared(runs_and_exports):
    tmp_path, exports = runs_and_exports
    value_ids: dict[tuple, int] = {}
    for ids in exports.values():
        for value, number in ids["values"].items():
            assert value_ids.setdefault(value, number) == number, value
    # the first accession's new text changed its values: new ones got new ids, no id names two values
    assert len(set(value_ids.values())) == len(value_ids) > 0
    saved = pq.read_table(OutputStore(str(tmp_path / "out")).id_map_path, schema=ID_MAP_SCHEMA).to_pylist()
    for kind in ("note", "person", "note_nlp"):
        numbers = sorted(r["id"] for r in saved if r["kind"] == kind)
        assert numbers == list(range(1, len(numbers) + 1)), kind  # given out in sequence, none twice
    assert os.path.dirname(OutputStore(str(tmp_path / "out")).id_map_path).endswith("ids")


def test_an_unreadable_id_map_refuses_the_export(tmp_path):
    _run(tmp_path, {ACCESSIONS[0]: ROWS[ACCESSIONS[0]]})
    _export(tmp_path, "first")
    store = OutputStore(str(tmp_path / "out"))
    with open(store.id_map_path, "wb") as fh:
        fh.write(b"not parquet")
    result = run_cli("export", tmp_path / "out", "--format", "omop", "--to", tmp_path / "second")
    assert result.exit_code != 0 and "restore it from a backup" in result.output
    assert not (tmp_path / "second").exists()


def test_an_export_waits_for_another_holding_the_id_map_and_a_linked_map_is_refused(tmp_path):
    _run(tmp_path, ROWS)
    store = OutputStore(str(tmp_path / "out"))
    done: list = []
    with store.id_map_locked():  # as another export giving out ids would
        waiting = threading.Thread(target=lambda: done.append(export_standard(store, "omop", str(tmp_path / "w"))))
        waiting.start()
        waiting.join(2.0)
        assert waiting.is_alive() and not done and not (tmp_path / "w").exists()
    waiting.join(120)
    assert done and sorted(n["note_id"] for n in pq.read_table(tmp_path / "w" / "note.parquet").to_pylist()) == [1, 2]
    elsewhere = tmp_path / "elsewhere"
    shutil.move(os.path.dirname(store.id_map_path), elsewhere)
    os.symlink(elsewhere, os.path.dirname(store.id_map_path))
    result = run_cli("export", tmp_path / "out", "--format", "omop", "--to", tmp_path / "linked")
    assert result.exit_code != 0 and "ids is a link" in result.output and not (tmp_path / "linked").exists()
