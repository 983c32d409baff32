"""One ETL run end to end: lock, recover, run the Beam graph, count, commit, summarise."""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.options.pipeline_options import PipelineOptions
from pydantic import BaseModel, Field
from tqdm import tqdm

from pipelines import progress
from pipelines.accounting import RunCounts, RunSummary
from pipelines.etl import build_pipeline
from pipelines.options import OutputOptions, RunnerOptions, TaskOptions
from pipelines.task_stage import TaskStage
from radlite.io.inputs import InputSpec
from radlite.io.records import IngestLimits
from radlite.store import OutputStore
from radlite.tables import TABLES, arrow_schema


class RunConfig(BaseModel):
    """Everything a run needs; built by the CLI, usable directly from Python."""

    inputs: list[InputSpec]
    out: str
    limits: IngestLimits = Field(default_factory=IngestLimits)
    tasks: TaskOptions = Field(default_factory=TaskOptions)
    runner: RunnerOptions = Field(default_factory=RunnerOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)
    #: Options passed to Apache Beam unchanged (e.g. --runner=...).
    beam_args: list[str] = Field(default_factory=list)
    show_progress: bool = False


class RunError(RuntimeError):
    """The run could not start: bad task selection, routing table, questions or inputs."""


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def done_keys(store: OutputStore, full: bool) -> tuple[frozenset, frozenset]:
    """(report_id, text_sha256) pairs and reject ids already committed; empty with --full."""
    if full:
        return frozenset(), frozenset()
    reports = store.read_table("reports", ["report_id", "text_sha256"])
    rejects = store.read_table("rejects", ["reject_id"])
    pairs = frozenset(zip(reports.column("report_id").to_pylist(), reports.column("text_sha256").to_pylist()))
    return pairs, frozenset(rejects.column("reject_id").to_pylist())


def pipeline_options(config: RunConfig) -> PipelineOptions:
    """Beam options: in-process DirectRunner by default; --workers N uses multi-processing;
    anything in beam_args (e.g. --runner=FlinkRunner) passes through unchanged."""
    args = list(config.beam_args)
    if not any(a.startswith("--runner") for a in args):
        args.append("--runner=DirectRunner")
        if config.runner.workers > 1:
            args += [f"--direct_num_workers={config.runner.workers}", "--direct_running_mode=multi_processing",
                     "--default_sdk_harness_log_level=ERROR"]  # worker processes log INFO otherwise
    return PipelineOptions(args)


def run_etl(config: RunConfig, on_step: Callable[[str], None] | None = None) -> RunSummary:
    """Run once over ``config.inputs`` into ``config.out``; returns the committed run's summary.

    ``on_step(name)`` is told each step of the run's end (``after_pipeline`` and the store's commit
    steps); see OutputStore. Raises RunError when the task options do not resolve.
    """
    try:
        stage = TaskStage.resolve(config.tasks)
    except (FileNotFoundError, ValueError) as exc:
        raise RunError(str(exc)) from None
    store = OutputStore(config.out, on_step)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    run_id = new_run_id(started)
    with store.locked():
        store.recover()
        done_reports, done_rejects = done_keys(store, config.output.full)
        staging = store.staging_dir(run_id)
        os.makedirs(staging, exist_ok=True)
        bar = _progress_bar(config)
        try:
            with beam.Pipeline(options=pipeline_options(config)) as p:
                build_pipeline(p, specs=config.inputs, limits=config.limits, run_id=run_id, staging_dir=staging,
                               done_reports=done_reports, done_rejects=done_rejects,
                               task_stage=stage.transform(run_id, store) if stage else None,
                               redistribute=config.runner.workers > 1)
            result = p.result
        finally:
            progress.install(None)
            if bar is not None:
                bar.close()
        store.on_step("after_pipeline")
        counts = RunCounts.from_result(result)
        staged = {t: store.staged_files(run_id, t) for t in TABLES if t != "runs"}
        rows = {t: sum(pq.read_metadata(f).num_rows for f in files) for t, files in staged.items()}
        summary = RunSummary(**counts.model_dump(), run_id=run_id, out=store.root, rows_by_table=rows,
                             wall_seconds=round(time.perf_counter() - t0, 3))
        rate = config.output.max_reject_rate
        summary.reject_rate_exceeded = bool(rate is not None and summary.read
                                            and summary.rejected / summary.read > rate)
        if summary.read != summary.accepted + summary.rejected:
            raise RuntimeError(f"record accounting broken: read={summary.read} accepted={summary.accepted} "
                               f"rejected={summary.rejected}")
        runs_dir = os.path.join(staging, "runs")
        os.makedirs(runs_dir, exist_ok=True)
        run_file = os.path.join(runs_dir, "run.parquet")
        row = summary.runs_row(started=started, finished=datetime.now(UTC),
                               inputs=[s.path for s in config.inputs], tasks=stage.task_names if stage else [],
                               routing=config.tasks.routing if stage else None,
                               options_json=config.model_dump_json(exclude={"inputs"}))
        pq.write_table(pa.Table.from_pylist([row], schema=arrow_schema("runs")), run_file)
        staged["runs"] = [run_file]
        summary.rows_by_table["runs"] = 1
        store.commit(run_id, staged)
    return summary


def _progress_bar(config: RunConfig):
    """A live reports/s bar on a terminal for in-process runs; nothing for cron or workers."""
    if not config.show_progress or config.runner.workers > 1 or not sys.stderr.isatty():
        return None
    bar = tqdm(desc="records", unit=" rec", file=sys.stderr, dynamic_ncols=True)
    progress.install(bar)
    return bar
