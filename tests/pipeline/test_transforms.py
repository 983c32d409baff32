"""The graph's pieces in process: the record processor (a tiny fake model beside it), each transform
under TestPipeline, and the whole chain writing its bundle files."""

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from etl_helpers import GOOD

from pipelines.etl import build_pipeline, numbered_records
from pipelines.process import ACCEPTED_NEW, LEDGER, RecordProcessor, RecordWork
from pipelines.task_stage import TaskStage
from radlite.inference.batch import Completion, GroupCost
from radlite.inference.runner import InferenceCounts
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.io.records import IngestLimits, SourceRecord
from radlite.report import build_report
from radlite.routing import ModelEntry, RoutingTable

#: What the fake model answers per task tag; any other task gets an answer no parser accepts.
FAKE_ANSWERS = {"[rads_assignment]": "BIRADS 4a", "[m_staging]": "M1"}


class FakeModel:
    """Stands in for a llama.cpp model: answers by the task tag in the prompt."""

    def __init__(self, entry):
        self.entry, self.identity = entry, {"fake": entry.path}

    def generate_groups(self, groups):
        return [([self._completion(p) for p in prompts], GroupCost(seconds=0.001)) for prompts in groups]

    @staticmethod
    def _completion(prompt) -> Completion:
        text = next((a for tag, a in FAKE_ANSWERS.items() if tag in prompt.text), "???")
        return Completion(text=text, prompt_tokens=len(prompt.text) // 4, completion_tokens=2)


def _processor(tasks: dict, selected, models=None) -> RecordProcessor:
    models = models or {"m": ModelEntry(path="/nowhere/fake.gguf")}
    stage = TaskStage(RoutingTable(name="fake", models=models, tasks=tasks), selected, (), list(tasks))
    return RecordProcessor(IngestLimits(), frozenset(), frozenset(), stage, "run-1", None, load_model=FakeModel)


def _report_rows(processor: RecordProcessor, report, counts) -> list:
    work = RecordWork("src", 0, ACCEPTED_NEW, report=report, counts=counts)
    processor.plan(work)
    processor.answer([work])
    return work.rows


def test_read_and_process_give_report_reject_and_one_ledger_row_per_record(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD.format(n=1))
    (tmp_path / "b.txt").write_text("   ")
    specs = expand_inputs([str(tmp_path)], None, ColumnMapping())
    processor = RecordProcessor(IngestLimits(), frozenset(), frozenset(), None, "run-1", None)
    with BeamTestPipeline() as p:
        rows = (p | beam.Create([(spec, 0, 1) for spec in specs]) | beam.FlatMap(numbered_records, IngestLimits())
                | beam.FlatMapTuple(processor.rows))
        summary = rows | beam.Map(lambda tr: (tr[0], tr[1].get("locator") or tr[1].get("outcome"),
                                              tr[1].get("reason")))
        assert_that(summary, equal_to([("reports", "a.txt", None), ("rejects", "b.txt", "empty"),
                                       (LEDGER, "accepted_new", None), (LEDGER, "rejected", "empty")]))


def test_processor_skips_reports_already_committed_unchanged():
    report = build_report("src", "a.txt", GOOD.format(n=1))
    done = frozenset({(report.report_id, report.text_sha256)})
    processor = RecordProcessor(IngestLimits(), done, frozenset(), None, "run-1", None)
    rows = list(processor.rows("src", 0, SourceRecord("src", "a.txt", GOOD.format(n=1).encode())))
    assert [(t, r["outcome"]) for t, r in rows] == [(LEDGER, "skipped_unchanged")]


def test_parsed_rows_and_unparseable_output_kept_as_invalid():
    report = build_report("src", "r1", "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: Suspicious mass.")
    processor = _processor(dict.fromkeys(("rads_assignment", "m_staging", "radiology_ner"), "m"),
                           ("rads_assignment", "m_staging", "radiology_ner"))
    rows = dict(_report_rows(processor, report, InferenceCounts()))
    assert (rows["rads"]["label"], rows["rads"]["severity_rank"], rows["rads"]["valid"]) == ("BI-RADS 4A", 4, True)
    assert rows["rads"]["grounded"] is False  # the report states no category: the model's answer has no evidence
    assert (rows["staging"]["m_stage"], rows["staging"]["model_id"]) == ("M1", "fake.gguf")
    assert (rows["entities"]["valid"], rows["entities"]["raw_output"]) == (False, "???")
    assert rows["reports"]["tasks_planned"] == ["rads_assignment", "m_staging", "radiology_ner"]


def test_a_cascade_lets_the_rules_answer_what_the_report_states_and_the_model_the_rest():
    stated = build_report("src", "stated", "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: BI-RADS 5, highly "
                                           "suggestive of malignancy.")
    silent = build_report("src", "silent", "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: Suspicious mass.")
    processor = _processor({"rads_assignment": ["rules", "m"]}, ("rads_assignment",),
                           {"rules": ModelEntry(kind="rules"), "m": ModelEntry(path="/nowhere/fake.gguf")})
    counts = InferenceCounts()
    answered = [r for report in (stated, silent) for t, r in _report_rows(processor, report, counts) if t == "rads"]
    assert [(r["label"], r["model_id"].split("@")[0], r["evidence"], r["grounded"]) for r in answered] == [
        ("BI-RADS 5", "radlite-rules", "BI-RADS 5", True), ("BI-RADS 4A", "fake.gguf", None, False)]
    assert (counts.rules_answered, counts.cascaded) == (1, 1)


def test_the_chain_writes_one_file_per_table_per_bundle(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"r{i}.txt").write_text(GOOD.format(n=i))
    (src / "empty.txt").write_text("")
    staging = tmp_path / "staging"
    processor = RecordProcessor(IngestLimits(), frozenset(), frozenset(), None, "run-1", None)
    with BeamTestPipeline() as p:
        build_pipeline(p, specs=expand_inputs([str(src)], None, ColumnMapping()), limits=IngestLimits(),
                       processor=processor, staging_dir=str(staging))
    written = {d.name: sum(pq.read_metadata(f).num_rows for f in d.glob("bundle-*.parquet"))
               for d in staging.iterdir()}
    assert written == {"reports": 3, "rejects": 1, LEDGER: 4}


def test_files_a_retried_bundle_wrote_twice_are_kept_once(tmp_path):
    """A runner may retry a bundle with another split: the commit keeps each written row once."""
    import pyarrow as pa

    from pipelines.run import dedupe_files
    from radlite.tables import arrow_schema

    report = build_report("src", "a.txt", GOOD.format(n=1))
    row = {**report.model_dump(), "tasks_planned": ["rads_assignment"], "tasks_skipped": [], "run_id": "run-1"}
    other = {**row, "report_id": "other", "locator": "b.txt"}
    files = []
    for i, rows in enumerate(([row], [row, other])):
        files.append(str(tmp_path / f"bundle-{i}.parquet"))
        pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema("reports")), files[-1])
    (kept,) = dedupe_files(files, str(tmp_path / "deduped"))
    assert sorted(pq.read_table(kept).column("report_id").to_pylist()) == sorted([report.report_id, "other"])
