"""Adding a task, as docs/architecture.md ("How to add a task") says: one task module, one registration.

A toy task, declared in this test only (it is no RadLite task): ``toy_side`` reads which side a report
names first ("left" / "right") and writes its own small table ``toy_sides``. Registered with
``radlite.tasks.register`` and nothing else, it runs through ``radlite run`` on a rules route, its table
is in the contract, the review sample draws its rows and the FHIR export carries its values. The reports
are hand-written (synthetic), two lines each.
"""

import json
import re

import pyarrow as pa
import pytest
from conftest import run_cli
from pydantic import BaseModel

from radlite.columns import columns
from radlite.evidence import Evidence
from radlite.review.views import VIEWS
from radlite.rules.answers import RuleAnswer
from radlite.store import OutputStore
from radlite.tables import TABLES, TASK_TABLES, arrow_schema
from radlite.tasks import TASKS, Task, TaskTable, register, task_tables
from radlite.tasks.base import Decoding, ParseError, literal_grammar
from radlite.tasks.table import ExportedValue, ReviewView

# --- the toy task's module: its result, its table, its rule extractor, the task -----------------------------

_SIDE = re.compile(r"\b(left|right)\b", re.I)


class SideResult(BaseModel):
    side: str


def toy_rule(report, instance) -> RuleAnswer | None:
    """The first side the report names, with its words as evidence; None when it names none."""
    found = _SIDE.search(report.text)
    if found is None:
        return None
    result = SideResult(side=found.group(1).lower())
    return RuleAnswer(result, result.side, [Evidence(found.start(), found.end())])


TOY_TABLE = TaskTable(
    "toy_sides",
    "First side a report names (toy_side; a test's toy task).",
    columns(("side", pa.string(), "left or right.")),
    evidence=True,
    review=ReviewView(("side",), lambda r: "side", lambda r: r["side"], lambda r: "positive"),
    export=lambda row: [ExportedValue("toy_side", "side", row["side"], "present")] if row["side"] else [],
    fhir_titles={"toy_side": "Side named first"},
)


class ToySide(Task):
    name = "toy_side"
    writes = TOY_TABLE
    rules = staticmethod(toy_rule)
    metric_name = "accuracy"

    def answer_format(self, instance=None) -> Decoding:
        return Decoding(max_tokens=2, grammar=literal_grammar(("left", "right")))

    def parse(self, raw: str) -> SideResult:
        if raw.strip() not in ("left", "right"):
            raise ParseError(f"not a side: {raw!r}")
        return SideResult(side=raw.strip())

    def answer(self, result: SideResult) -> str:
        return result.side

    def ground(self, result, instance, report) -> list[Evidence | None]:
        found = _SIDE.search(report.text)
        return [Evidence(found.start(), found.end()) if found else Evidence()]


# --- the one registration, and a run through radlite run ----------------------------------------------------

ROUTING = "name: toy\nmodels:\n  rules:\n    kind: rules\ntasks:\n  toy_side: rules\n"
REPORTS = [{"id": "a", "text": "CHEST TWO VIEWS\nFINDINGS: Small left pleural effusion."},
           {"id": "b", "text": "CT CHEST\nIMPRESSION: 6 mm nodule in the right upper lobe."},
           {"id": "c", "text": "CT HEAD\nIMPRESSION: No acute intracranial abnormality."}]


@pytest.fixture(scope="module")
def toy_out(tmp_path_factory):
    register(ToySide())
    folder = tmp_path_factory.mktemp("toy")
    (folder / "routing.yaml").write_text(ROUTING)
    (folder / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in REPORTS))
    out = folder / "out"
    result = run_cli("run", folder / "reports.jsonl", "--out", out, "--tasks", "toy_side",
                     "--routing", folder / "routing.yaml", "--quiet")
    yield folder, out, result
    TASKS.pop("toy_side")


def test_a_registered_task_joins_the_contract_and_runs(toy_out):
    folder, out, result = toy_out
    assert result.exit_code == 0, result.output
    assert "toy_sides" in TABLES and "toy_sides" in TASK_TABLES
    assert arrow_schema("toy_sides").names[-1] == "side" and "evidence" in arrow_schema("toy_sides").names
    rows = OutputStore(str(out)).read_table("toy_sides").to_pylist()
    # report c names no side: the rules, the only entry of its route, leave it unanswered (an invalid row)
    assert sorted((r["valid"], r["side"] or "", r["evidence"] or "", r["grounded"]) for r in rows) == [
        (False, "", "", None), (True, "left", "left", True), (True, "right", "right", True)]
    assert {r["error"].split(":")[0] for r in rows if not r["valid"]} == {"no_answer"}
    assert {r["model_id"].split("@")[0] for r in rows} == {"radlite-rules"}


def test_the_review_sample_and_the_fhir_export_carry_its_values(toy_out, tmp_path):
    folder, out, _ = toy_out
    assert "toy_sides" in VIEWS
    review = run_cli("review", out, "--sample", "5", "--out", tmp_path / "review")
    assert review.exit_code == 0, review.output
    drawn = json.loads((tmp_path / "review" / "sample.json").read_text())["items"]
    assert sorted(i["value"] for i in drawn) == ["left", "right"]
    export = run_cli("export", out, "--format", "fhir", "--to", tmp_path / "fhir")
    assert export.exit_code == 0, export.output
    observations = [json.loads(line) for line in open(tmp_path / "fhir" / "Observation.ndjson")]
    assert sorted((o["code"]["text"], o["valueCodeableConcept"]["text"]) for o in observations) == [
        ("Side named first", "left"), ("Side named first", "right")]


def test_a_second_declaration_of_one_table_fails_loudly():
    class Twin(ToySide):
        name = "toy_twin"
        writes = TaskTable("abnormalities", "again", columns(("side", pa.string(), "left or right.")), evidence=True)

    with pytest.raises(ValueError, match="declares table 'abnormalities' again"):
        register(Twin())
    assert "toy_twin" not in TASKS and task_tables()["abnormalities"] is TASKS["abnormality_detection"].writes


def test_a_table_with_no_columns_or_one_the_contract_declares_fails_loudly():
    with pytest.raises(ValueError, match="declares no value columns"):
        TaskTable("toy_empty", "A table with no value columns.", (), evidence=False)

    class Clash(ToySide):
        name = "toy_clash"
        writes = TaskTable("reports", "again", columns(("side", pa.string(), "left or right.")), evidence=False)

    register(Clash())
    try:
        with pytest.raises(ValueError, match="table 'reports', which radlite.tables declares already"):
            list(TABLES)
    finally:
        TASKS.pop("toy_clash")
    assert "reports" in TABLES
