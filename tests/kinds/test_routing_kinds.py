"""A routing table decides nothing by kind name: what a kind may do in a table (name files, come before
another entry, answer a task) is its declared traits, so a new kind is one declaration."""

import dataclasses

import pytest
import yaml

from radlite.routing import ModelEntry, RoutingTable, load_routing
from radlite.routing.kinds import KIND_TRAITS, RULES, KindTraits


def _write(tmp_path, models: dict, tasks: dict) -> str:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "models": models, "tasks": tasks}))
    return str(path)


MODEL = {"path": "m.gguf"}


def test_rules_then_a_model_is_a_route_and_the_reverse_is_not(tmp_path):
    table = load_routing(_write(tmp_path, {"rules": {"kind": "rules"}, "m": MODEL},
                                {"n_staging": ["rules", "m"]}))
    assert table.model_for("n_staging")[0] == "m"
    assert table.model_files() == [str(tmp_path / "m.gguf")]
    with pytest.raises(ValueError, match="only an entry that can leave an instance open"):
        load_routing(_write(tmp_path, {"rules": {"kind": "rules"}, "m": MODEL}, {"n_staging": ["m", "rules"]}))


def test_rules_are_refused_for_a_task_they_do_not_read(tmp_path):
    with pytest.raises(ValueError, match="no rules entry answers radiology_nli"):
        load_routing(_write(tmp_path, {"rules": {"kind": "rules"}}, {"radiology_nli": "rules"}))


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown model kind 'remote'; known: llama.cpp, rules"):
        ModelEntry(kind="remote", path="x")


def test_a_new_kind_is_one_declaration(tmp_path, monkeypatch):
    """A kind that loads no file and may pass instances on (a remote server, say) routes like the rules
    once declared, with no other change to the routing code."""
    remote = KindTraits("remote", loads_files=False, passes_on=True, label=lambda entry: "remote-v1")
    monkeypatch.setitem(KIND_TRAITS, "remote", remote)
    table = load_routing(_write(tmp_path, {"r": {"kind": "remote"}, "m": MODEL}, {"radiology_qa": ["r", "m"]}))
    assert table.models["r"].label() == "remote-v1"
    assert table.models["r"].files() == [] and table.model_for("radiology_qa")[0] == "m"
    monkeypatch.setitem(KIND_TRAITS, "remote", dataclasses.replace(remote, passes_on=False))
    with pytest.raises(ValueError, match="routes to"):
        load_routing(_write(tmp_path, {"r": {"kind": "remote"}, "m": MODEL}, {"radiology_qa": ["r", "m"]}))


def test_entries_that_load_no_file_keep_no_paths_when_resolved_or_pinned():
    rules = ModelEntry(kind=RULES)
    assert rules.with_paths(lambda p: "/elsewhere/" + p) is rules and rules.pinned() is rules
    table = RoutingTable(name="t", models={"rules": rules}, tasks={"n_staging": "rules"})
    assert table.model_files() == [] and table.model_for("n_staging") is None
