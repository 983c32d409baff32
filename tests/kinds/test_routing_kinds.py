"""A routing table decides nothing by kind name: what a kind may do in a table (name files, come before
another entry, answer a task) is its declared traits, and an entry carries only its kind's options."""

from typing import Literal

import pytest
import yaml

from radlite.kinds import KINDS, ModelEntry, ModelKind
from radlite.kinds.llama_cpp import LlamaCppEntry
from radlite.kinds.rules import RULES, RulesEntry
from radlite.routing import RoutingTable, load_routing, write_routing


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


class RemoteEntry(ModelEntry):
    kind: Literal["remote"] = "remote"
    url: str = ""


class RemoteKind(ModelKind):
    """A kind that loads no file and may pass instances on (a remote server, say)."""

    name, options, passes_on = "remote", RemoteEntry, True

    def model_id(self, entry: RemoteEntry) -> str:
        return "remote-v1"


def test_a_new_kind_is_one_declaration(tmp_path, monkeypatch):
    """Once registered, a kind routes like the rules, with its own options and no other change to the
    routing code."""
    monkeypatch.setitem(KINDS, "remote", RemoteKind())
    table = load_routing(_write(tmp_path, {"r": {"kind": "remote", "url": "http://x"}, "m": MODEL},
                                {"radiology_qa": ["r", "m"]}))
    assert table.models["r"].label() == "remote-v1" and table.models["r"].url == "http://x"
    assert table.models["r"].files() == [] and table.model_for("radiology_qa")[0] == "m"
    last = RemoteKind()
    last.passes_on = False
    monkeypatch.setitem(KINDS, "remote", last)
    with pytest.raises(ValueError, match="routes to"):
        load_routing(_write(tmp_path, {"r": {"kind": "remote"}, "m": MODEL}, {"radiology_qa": ["r", "m"]}))


def test_each_entry_carries_only_its_kinds_options(tmp_path):
    """A rules entry has no n_ctx; a routing table written before kinds had their own options (a rules
    entry with every llama.cpp field, which it never read) still loads, and is written back without them."""
    old_rules = {"kind": "rules", "path": "", "sha256": None, "adapters": [], "profile": "radlite-v1",
                 "n_ctx": 4096, "threads": None, "seed": 0, "merge": None}
    table = load_routing(_write(tmp_path, {"rules": old_rules, "m": {**MODEL, "n_ctx": 2048}},
                                {"n_staging": ["rules", "m"]}))
    rules, model = table.models["rules"], table.models["m"]
    assert isinstance(rules, RulesEntry) and not hasattr(rules, "n_ctx")
    assert isinstance(model, LlamaCppEntry) and model.n_ctx == 2048
    write_routing(table, str(tmp_path / "again.yaml"))
    written = yaml.safe_load((tmp_path / "again.yaml").read_text())["models"]
    assert written["rules"] == {"kind": "rules", "fallback": None}
    assert written["m"]["n_ctx"] == 2048 and written["m"]["kind"] == "llama.cpp"
    assert load_routing(str(tmp_path / "again.yaml")).models == table.models


def test_a_llama_cpp_entry_is_refused_without_a_file_or_with_an_unknown_profile(tmp_path):
    with pytest.raises(ValueError, match="a llama.cpp entry needs a path"):
        ModelEntry(kind="llama.cpp")
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        load_routing(_write(tmp_path, {"m": {**MODEL, "profile": "nope"}}, {"n_staging": "m"}))


def test_entries_that_load_no_file_keep_no_paths_when_resolved_or_pinned():
    rules = ModelEntry(kind=RULES)
    assert rules.with_paths(lambda p: "/elsewhere/" + p) is rules and rules.pinned() is rules
    table = RoutingTable(name="t", models={"rules": rules}, tasks={"n_staging": "rules"})
    assert table.model_files() == [] and table.model_for("n_staging") is None
