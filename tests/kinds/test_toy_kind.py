"""docs/architecture.md, "How to add a model kind", walked: a kind declared in this test only (its entry
options, its kind, one registration) flows through `radlite run`, `radlite review` and `radlite export`
with no other change."""

import json
import os
from typing import Literal

import yaml
from conftest import run_cli

from radlite.inference.runner import result_rows
from radlite.kinds import KINDS, Answered, ModelEntry, ModelKind
from radlite.tasks import TASKS

#: Written for this test (SYNTHETIC): three short reports, each with the N stage the toy kind answers.
REPORTS = {
    "one.txt": "EXAMINATION: CT CHEST\nFINDINGS: Right upper lobe adenocarcinoma with a right hilar node, staged N1."
               "\nIMPRESSION: Lung cancer, N1.",
    "two.txt": "EXAMINATION: CT CHEST\nFINDINGS: Left lower lobe adenocarcinoma. No enlarged nodes, N0.\n"
               "IMPRESSION: Lung cancer, N0.",
    "three.txt": "EXAMINATION: CT NECK\nFINDINGS: Squamous cell carcinoma of the tongue base with bilateral nodes, "
                 "N2.\nIMPRESSION: Head and neck cancer, N2."}


class LookupEntry(ModelEntry):
    """Step 1: the entry options of the kind (its own fields only)."""

    kind: Literal["lookup"] = "lookup"
    answers: dict[str, str] = {}  # the report's file name -> the raw answer


class LookupAnswerer:
    def __init__(self, entry: LookupEntry):
        self.entry = entry

    def answer(self, asked, run_id, cache):
        """Every instance answered from the entry's dict, parsed and grounded as a model's answer is."""
        out = []
        for a in asked:
            rows = []
            for instance in a.instances:
                common = {"report_id": a.report.report_id, "task": instance.task, "model_id": "lookup-v1",
                          "prompt_id": f"lookup/{instance.task}", "prompt_sha256": "none", "run_id": run_id}
                raw = self.entry.answers[os.path.basename(a.report.locator)]
                rows += [(TASKS[instance.task].table, row)
                         for row in result_rows(instance.task, raw, instance, a.report, common)]
                a.counts.outputs_valid += 1
            out.append(Answered(rows, []))
        return out


class LookupKind(ModelKind):
    """Step 2: the kind: its traits, its options, its model_id, how it loads."""

    name, options = "lookup", LookupEntry
    tasks = frozenset({"n_staging"})

    def model_id(self, entry):
        return "lookup-v1"

    def load(self, entry, load_model=None, shots=()):
        return LookupAnswerer(entry)


def test_a_kind_declared_in_one_module_runs_is_reviewed_and_exported(tmp_path, monkeypatch):
    # step 3: one registration (a shipped kind: ``register(LookupKind())`` in radlite/kinds/__init__.py),
    # here undone after the test
    monkeypatch.setitem(KINDS, "lookup", LookupKind())
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in REPORTS.items():
        (folder / name).write_text(text)
    answers = {"one.txt": "N1", "two.txt": "N0", "three.txt": "N2"}
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump({"name": "toy", "models": {"lookup": {"kind": "lookup", "answers": answers}},
                                       "tasks": {"n_staging": "lookup"}}))
    out = tmp_path / "out"
    ran = run_cli("run", folder, "--out", out, "--routing", routing, "--tasks", "n_staging", "--quiet")
    assert ran.exit_code == 0, ran.output

    sample = run_cli("review", out, "--out", tmp_path / "page", "--sample", "3", "--seed", "1", "--table", "staging")
    assert sample.exit_code == 0, sample.output
    items = json.loads((tmp_path / "page" / "sample.json").read_text())["items"]
    assert sorted(i["value"] for i in items) == ["N0", "N1", "N2"]

    exported = run_cli("export", out, "--format", "fhir", "--to", tmp_path / "fhir")
    assert exported.exit_code == 0, exported.output
    with open(os.path.join(tmp_path / "fhir", "Observation.ndjson")) as fh:
        stages = sorted(json.loads(line)["valueCodeableConcept"]["text"] for line in fh)
    assert stages == ["N0", "N1", "N2"]
