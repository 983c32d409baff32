"""Each Beam transform in process (TestPipeline + assert_that), the model replaced by a tiny fake."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from etl_helpers import GOOD

from pipelines.etl import ReadInputs, ValidateReports
from pipelines.rows import REJECTS, REPORTS
from pipelines.task_stage import RunTasks
from radlite.inference.engine import Generation
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.io.records import IngestLimits
from radlite.report import build_report
from radlite.routing import ModelEntry, RoutingTable

#: What the fake model answers per task tag; any other task gets an answer no parser accepts.
FAKE_ANSWERS = {"[rads_assignment]": "BIRADS 4a", "[m_staging]": "M1"}


class FakeModel:
    """Stands in for a llama.cpp model: answers by the task tag in the prompt."""

    def __init__(self, entry):
        self.entry, self.identity = entry, {"fake": entry.path}

    def generate(self, prompt):
        text = next((a for tag, a in FAKE_ANSWERS.items() if tag in prompt.text), "???")
        return Generation(text=text, prompt_tokens=len(prompt.text) // 4, completion_tokens=2, seconds=0.001)


def _routing(*tasks):
    entry = ModelEntry(path="/nowhere/fake.gguf")
    return RoutingTable(name="fake", models={"m": entry}, tasks=dict.fromkeys(tasks, "m"))


def test_read_and_validate_split_reports_from_rejects(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD.format(n=1))
    (tmp_path / "b.txt").write_text("   ")
    specs = expand_inputs([str(tmp_path)], None, ColumnMapping())
    limits = IngestLimits()
    with BeamTestPipeline() as p:
        items = p | ReadInputs(specs, limits, redistribute=False)
        validated = items | ValidateReports(limits, frozenset(), frozenset())
        assert_that(validated[REPORTS] | "Locators" >> beam.Map(lambda r: r.locator), equal_to(["a.txt"]),
                    label="reports")
        assert_that(validated[REJECTS] | "Reasons" >> beam.Map(lambda r: (r.locator, r.reason.value)),
                    equal_to([("b.txt", "empty")]), label="rejects")


def test_validate_drops_reports_already_committed_unchanged(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD.format(n=1))
    specs = expand_inputs([str(tmp_path)], None, ColumnMapping())
    report = build_report(specs[0].source, "a.txt", GOOD.format(n=1))
    done = frozenset({(report.report_id, report.text_sha256)})
    with BeamTestPipeline() as p:
        items = p | ReadInputs(specs, IngestLimits(), redistribute=False)
        validated = items | ValidateReports(IngestLimits(), done, frozenset())
        assert_that(validated[REPORTS], equal_to([]))


def test_run_tasks_writes_parsed_rows_and_keeps_unparseable_output_as_invalid():
    report = build_report("src", "r1", "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: Suspicious mass.")
    routing = _routing("rads_assignment", "m_staging", "radiology_ner")
    stage = RunTasks(routing, ("rads_assignment", "m_staging", "radiology_ner"), (), "run-1", None,
                     load_model=FakeModel)
    with BeamTestPipeline() as p:
        tables = p | beam.Create([report]) | stage
        assert_that(tables["rads"] | "Rads" >> beam.Map(lambda r: (r["label"], r["severity_rank"], r["valid"])),
                    equal_to([("BI-RADS 4A", 4, True)]), label="rads")
        assert_that(tables["staging"] | "Staging" >> beam.Map(lambda r: (r["task"], r["m_stage"], r["model_id"])),
                    equal_to([("m_staging", "M1", "fake.gguf")]), label="staging")
        assert_that(tables["entities"] | "Entities" >> beam.Map(lambda r: (r["valid"], r["raw_output"])),
                    equal_to([(False, "???")]), label="entities")
        assert_that(tables["reports"] | "Planned" >> beam.Map(lambda r: r["tasks_planned"]),
                    equal_to([["rads_assignment", "m_staging", "radiology_ner"]]), label="reports")


def test_a_cascade_lets_the_rules_answer_what_the_report_states_and_the_model_the_rest():
    stated = build_report("src", "stated", "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: BI-RADS 5, highly "
                                           "suggestive of malignancy.")
    silent = build_report("src", "silent", "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: Suspicious mass.")
    routing = RoutingTable(name="cascade", models={"rules": ModelEntry(kind="rules"),
                                                   "m": ModelEntry(path="/nowhere/fake.gguf")},
                           tasks={"rads_assignment": ["rules", "m"]})
    stage = RunTasks(routing, ("rads_assignment",), (), "run-1", None, load_model=FakeModel)
    with BeamTestPipeline() as p:
        tables = p | beam.Create([stated, silent]) | stage
        answered = tables["rads"] | beam.Map(lambda r: (r["report_id"] == stated.report_id, r["label"],
                                                        r["model_id"].split("@")[0], r["evidence"], r["grounded"]))
        assert_that(answered, equal_to([(True, "BI-RADS 5", "radlite-rules", "BI-RADS 5", True),
                                        (False, "BI-RADS 4A", "fake.gguf", None, False)]))
