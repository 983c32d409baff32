"""An adapter kept out of the wheel (CC BY-NC-ND training text) is used where it is installed; where it
is not, its tasks go to the permissively licensed fallback entry, and `radlite doctor` says which. The
shipped table that uses it is the model routing, embedded-model (the default routes no task to a model)."""

import os

from conftest import ROOT, run_cli_process

from radlite.routing import load_routing

NC_FOLDER = os.path.join(ROOT, "adapters", "iu-xray-nc")
NC_TASKS = ["impression_generation", "m_staging"]


def test_the_checkout_finds_the_adapter_installed_apart(monkeypatch):
    monkeypatch.delenv("RADLITE_ADAPTERS", raising=False)
    table = load_routing("embedded-model")
    entry = table.models["cascade-tuned.cascade-tuned"]
    assert [os.path.dirname(a.path) for a in entry.adapters] == [NC_FOLDER]
    assert table.fell_back == [] and table.chain("m_staging") == ["rules", "cascade-tuned.cascade-tuned"]


def test_without_it_its_tasks_use_the_synthetic_adapter(monkeypatch):
    monkeypatch.setenv("RADLITE_ADAPTERS", "")  # set, even empty: only these folders are searched
    table = load_routing("embedded-model")
    assert "cascade-tuned.cascade-tuned" not in table.models
    [fallback] = table.fell_back
    assert (fallback.entry, fallback.fallback, fallback.tasks) == (
        "cascade-tuned.cascade-tuned", "embedded-synthetic.embedded-synthetic", NC_TASKS)
    assert all(table.chain(t) == ["rules", "embedded-synthetic.embedded-synthetic"] for t in NC_TASKS)
    assert table.chain("radiology_ner") == ["embedded-synthetic.embedded-synthetic"]  # untouched


def test_doctor_says_which_file_installed_apart_is_in_use():
    doctor = ("doctor", "--routing", "embedded-model", "--no-smoke")
    installed = run_cli_process(*doctor, env={"RADLITE_ADAPTERS": NC_FOLDER})
    assert installed.returncode == 0, installed.stdout + installed.stderr
    line = next(x for x in installed.stdout.splitlines() if "terms of embedded-lora-cpu-demo.gguf" in x)
    assert line.startswith("ok") and "installed apart from the package" in line and "LICENSE" in line
    absent = run_cli_process(*doctor, env={"RADLITE_ADAPTERS": ""})
    assert absent.returncode == 0, absent.stdout + absent.stderr
    line = next(x for x in absent.stdout.splitlines() if "entry cascade-tuned.cascade-tuned" in x)
    assert "not installed" in line and "impression_generation, m_staging use the fallback embedded-synthetic" in line
