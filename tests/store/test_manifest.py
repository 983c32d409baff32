"""The store's typed records: the manifest (with the marks derived tables save), repair's result, and the
run summary that refuses to commit records that do not add up."""

import json

import pytest
from pydantic import ValidationError

from pipelines.accounting import RunSummary
from radlite.store import OutputStore, StoreDamaged, StoreManifest


def test_a_mark_saved_with_derived_tables_survives_later_commits(tmp_path):
    store = OutputStore(str(tmp_path / "out"))
    with store.locked():
        store.recover()
        store.commit("run-1", {})
        store.commit_derived("run-1", {}, {"timeline_through": "run-1"})
        store.commit("run-2", {})
    manifest = store.manifest()
    assert (manifest.runs, manifest.mark("timeline_through"), manifest.mark("other")) == (["run-1", "run-2"], "run-1",
                                                                                           None)
    on_disk = json.loads(open(store.manifest_path).read())
    assert on_disk["timeline_through"] == "run-1" and StoreManifest.model_validate(on_disk) == manifest


@pytest.mark.parametrize("text", ['{"runs": "r", "files": {}}', '{"files": {}}', "[]"])
def test_a_manifest_without_its_runs_and_files_is_damage_to_repair(tmp_path, text):
    store = OutputStore(str(tmp_path))
    with store.locked():
        store.recover()
    with open(store.manifest_path, "w") as fh:
        fh.write(text)
    with pytest.raises(StoreDamaged, match="radlite repair"):
        store.manifest()
    result = store.repair()
    assert (result.runs, result.files, result.dropped) == ([], 0, [])


def test_a_summary_whose_records_do_not_add_up_is_refused():
    fields = {"run_id": "r", "out": "o", "rows_by_table": {}, "wall_seconds": 1.0}
    assert RunSummary(read=3, accepted_new=2, rejected_by_reason={"empty": 1}, **fields).accepted == 2
    with pytest.raises(ValidationError, match="record accounting broken: read=3 accepted=1 rejected=1"):
        RunSummary(read=3, accepted_new=1, rejected_by_reason={"empty": 1}, **fields)
