"""The ETL graph: read -> validate -> plan -> infer -> write, as small named PTransforms.

All logic lives in plain functions of the radlite library; the transforms here only wire them.
"""

from __future__ import annotations

import apache_beam as beam

from pipelines import progress
from pipelines.accounting import count, count_reject
from pipelines.rows import REJECTS, REPORTS, reject_row, report_row
from radlite.io.inputs import InputSpec
from radlite.io.readers import read_input
from radlite.io.records import IngestLimits, SourceRecord
from radlite.io.validate import validate_record
from radlite.rejects import Reject
from radlite.tables import TABLES, arrow_schema


class ReadInputs(beam.PTransform):
    """Every input record of every input, streamed: SourceRecord or Reject."""

    def __init__(self, specs: list[InputSpec], limits: IngestLimits, redistribute: bool):
        super().__init__()
        self.specs, self.limits, self.redistribute = specs, limits, redistribute

    def expand(self, pbegin):
        items = (pbegin
                 | "ListInputs" >> beam.Create(self.specs)
                 | "ReadRecords" >> beam.FlatMap(read_input, self.limits))
        # Spreading records over workers costs a shuffle that buffers them; only worth it in parallel.
        return items | "Redistribute" >> beam.Reshuffle() if self.redistribute else items


class _ValidateFn(beam.DoFn):
    def __init__(self, limits: IngestLimits, done_reports: frozenset, done_rejects: frozenset):
        self.limits, self.done_reports, self.done_rejects = limits, done_reports, done_rejects

    def process(self, item):
        count("read")
        progress.advance()
        result = validate_record(item, self.limits) if isinstance(item, SourceRecord) else item
        if isinstance(result, Reject):
            count_reject(result.reason.value)
            if result.reject_id not in self.done_rejects:
                yield beam.pvalue.TaggedOutput(REJECTS, result)
            return
        if (result.report_id, result.text_sha256) in self.done_reports:
            count("skipped_unchanged")
            return
        count("accepted_new")
        yield result


class ValidateReports(beam.PTransform):
    """Records -> new Reports (main output) and Rejects (tag ``rejects``); unchanged reports are dropped."""

    def __init__(self, limits: IngestLimits, done_reports: frozenset, done_rejects: frozenset):
        super().__init__()
        self.fn = _ValidateFn(limits, done_reports, done_rejects)

    def expand(self, items):
        return items | "Validate" >> beam.ParDo(self.fn).with_outputs(REJECTS, main=REPORTS)


class WriteTable(beam.PTransform):
    """Rows (dicts) -> Parquet files of one table under the run's staging directory."""

    def __init__(self, table: str, staging_dir: str):
        super().__init__()
        self.table, self.staging_dir = table, staging_dir

    def expand(self, rows):
        return rows | f"Write_{self.table}" >> beam.io.WriteToParquet(
            file_path_prefix=f"{self.staging_dir}/{self.table}/part",
            schema=arrow_schema(self.table),
            file_name_suffix=".parquet",
            record_batch_size=2000,
            row_group_buffer_size=4 * 1024 * 1024,  # flush row groups often: memory flat in archive size
        )


def build_pipeline(pipeline: beam.Pipeline, *, specs: list[InputSpec], limits: IngestLimits, run_id: str,
                   staging_dir: str, done_reports: frozenset, done_rejects: frozenset, task_stage=None,
                   redistribute: bool = False) -> None:
    """Wire the whole graph onto ``pipeline``. ``task_stage`` is a PTransform from Reports to
    a dict {table: rows PCollection} plus ``reports`` rows; None runs no tasks."""
    items = pipeline | "ReadInputs" >> ReadInputs(specs, limits, redistribute)
    validated = items | "ValidateReports" >> ValidateReports(limits, done_reports, done_rejects)
    tables: dict[str, beam.PCollection] = {
        REJECTS: validated[REJECTS] | "RejectRows" >> beam.Map(reject_row, run_id),
    }
    if task_stage is None:
        tables[REPORTS] = validated[REPORTS] | "ReportRows" >> beam.Map(report_row, run_id, [], {})
    else:
        tables.update(validated[REPORTS] | "RunTasks" >> task_stage)
    for table, rows in tables.items():
        assert table in TABLES, table
        rows | f"Write[{table}]" >> WriteTable(table, staging_dir)
