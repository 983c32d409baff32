"""The ETL graph, one linear chain: list inputs -> read records, in batches -> prepare each (validate,
plan, rules) -> answer each batch (RunInference: models decode a batch's reports together; it emits the
records one by one) -> finish each record (its rows and ledger row) -> write bundle files.

A chain with no branches and no tagged outputs runs every record exactly once on every runner (the
Dask runner computes only the graph's last transform and re-runs a ParDo once per consumed tagged
output); its only side effect is files in the run's staging directory. All logic lives in the
radlite library and pipelines.process; the transforms here only wire it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.ml.inference.base import RunInference

from pipelines.inference import REPORTS_PER_BATCH, RecordBatchHandler
from pipelines.process import LEDGER, LEDGER_SCHEMA, RecordProcessor
from radlite.io.inputs import InputSpec
from radlite.io.readers import read_input
from radlite.io.records import IngestLimits
from radlite.store import staged_bundle_path, staged_table_dir
from radlite.tables import TABLES, arrow_schema

#: Rows buffered per table before a row group is written: memory stays flat in archive size.
ROW_GROUP_ROWS = 2000


def numbered_records(shard: tuple[InputSpec, int, int], limits: IngestLimits) -> Iterator[tuple[str, int, object]]:
    """(source, position in the input, SourceRecord or Reject) for the records of one shard: the
    input's records are cut into batches by position (REPORTS_PER_BATCH each) and shard ``i`` of
    ``n`` keeps batches i, i+n, ... The position identifies a record across retries (the ledger
    counts it once); every shard reads the whole input, so the expensive work (models) is split over
    the workers whatever a runner does with a single input element."""
    spec, index, count = shard
    for sequence, item in enumerate(read_input(spec, limits)):
        if (sequence // REPORTS_PER_BATCH) % count == index:
            yield spec.source, sequence, item


def record_batches(shard: tuple[InputSpec, int, int], limits: IngestLimits) -> Iterator[list]:
    """The shard's records in their batches, the model step's unit. A batch is the same records
    whatever the number of shards (workers), and batched decoding's answers at a near-tie depend on
    which reports share the batch: so one worker and many write the same tables."""
    batch: list = []
    for record in numbered_records(shard, limits):
        if batch and batch[-1][1] // REPORTS_PER_BATCH != record[1] // REPORTS_PER_BATCH:
            yield batch
            batch = []
        batch.append(record)
    if batch:
        yield batch


class _WriteBundleFn(beam.DoFn):
    """(table, row) -> one Parquet file per table per bundle in the staging directory.

    Files are written under a temporary name and renamed, when the bundle ends, to a name derived
    from the bundle's ledger keys: a retried bundle writes the same names, so its files replace
    the first attempt's instead of adding to them.
    """

    def __init__(self, staging_dir: str):
        self.staging_dir = staging_dir

    def start_bundle(self):
        self.buffers: dict[str, list[dict]] = {}
        self.writers: dict[str, tuple[pq.ParquetWriter, str]] = {}
        self.keys = hashlib.sha256()

    def process(self, element):
        table, row = element
        if table == LEDGER:
            self.keys.update(f"{row['source']}\x00{row['sequence']}\x00".encode())
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= ROW_GROUP_ROWS:
            self._flush(table)

    def _schema(self, table: str) -> pa.Schema:
        return LEDGER_SCHEMA if table == LEDGER else arrow_schema(table)

    def _flush(self, table: str) -> None:
        rows = self.buffers.pop(table, [])
        if not rows:
            return
        if table not in self.writers:
            directory = staged_table_dir(self.staging_dir, table)
            os.makedirs(directory, exist_ok=True)
            temporary = os.path.join(directory, f".writing-{uuid.uuid4().hex}")
            self.writers[table] = (pq.ParquetWriter(temporary, self._schema(table)), temporary)
        self.writers[table][0].write_table(pa.Table.from_pylist(rows, schema=self._schema(table)))

    def finish_bundle(self):
        for table in list(self.buffers):
            self._flush(table)
        name = self.keys.hexdigest()[:32]
        for table, (writer, temporary) in self.writers.items():
            writer.close()
            os.replace(temporary, staged_bundle_path(self.staging_dir, table, name))


def build_pipeline(pipeline: beam.Pipeline, *, specs: list[InputSpec], limits: IngestLimits,
                   processor: RecordProcessor, staging_dir: str, shards: int = 1) -> None:
    """Wire the whole chain onto ``pipeline``; rows land as Parquet files under ``staging_dir``.
    ``shards`` splits each input's records over that many parallel workers."""
    (pipeline
     | "ListShards" >> beam.Create([(spec, i, shards) for spec in specs for i in range(shards)])
     | "ReadRecords" >> beam.FlatMap(record_batches, limits)
     | "Prepare" >> beam.Map(processor.prepare_batch)
     | "Answer" >> RunInference(RecordBatchHandler(processor))
     | "Finish" >> beam.FlatMap(processor.finish)
     | "WriteBundles" >> beam.ParDo(_WriteBundleFn(staging_dir)))


assert LEDGER not in TABLES
