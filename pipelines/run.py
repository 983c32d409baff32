"""One ETL run end to end: lock, recover, run the Beam graph, count, commit, summarise."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from datetime import datetime, timezone

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.options.pipeline_options import PipelineOptions
from pydantic import BaseModel, Field

from pipelines import progress
from pipelines.etl import NAMESPACE, build_pipeline
from radlite import __version__
from radlite.io.inputs import InputSpec
from radlite.io.records import IngestLimits
from radlite.store import OutputStore, inject_fault
from radlite.tables import TABLES, arrow_schema


class RunConfig(BaseModel):
    """Everything a run needs; built by the CLI, usable directly from Python."""

    inputs: list[InputSpec]
    out: str
    limits: IngestLimits = Field(default_factory=IngestLimits)
    tasks: list[str] = Field(default_factory=list)
    routing: str | None = None
    full: bool = False
    workers: int = Field(default=1, ge=1)
    beam_args: list[str] = Field(default_factory=list)
    max_reject_rate: float | None = None
    show_progress: bool = False


class RunSummary(BaseModel):
    run_id: str
    out: str
    read: int
    accepted: int
    accepted_new: int
    skipped_unchanged: int
    rejected: int
    rejected_by_reason: dict[str, int]
    rows_by_table: dict[str, int]
    wall_seconds: float
    reports_per_second: float
    cache_hits: int = 0
    cache_lookups: int = 0
    outputs_valid: int = 0
    outputs_invalid: int = 0
    model_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reject_rate_exceeded: bool = False


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
        if config.workers > 1:
            args += [f"--direct_num_workers={config.workers}", "--direct_running_mode=multi_processing",
                     "--default_sdk_harness_log_level=ERROR"]  # worker processes log INFO otherwise
    return PipelineOptions(args)


def _counters(result) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        counts[c.key.metric.name] = counts.get(c.key.metric.name, 0) + (c.committed or c.attempted or 0)
    return counts


def _run_row(summary: RunSummary, config: RunConfig, started: datetime, finished: datetime) -> dict:
    return {
        "run_id": summary.run_id, "started_at": started, "finished_at": finished, "status": "committed",
        "inputs": [s.path for s in config.inputs], "tasks": config.tasks, "routing": config.routing,
        "read": summary.read, "accepted": summary.accepted, "accepted_new": summary.accepted_new,
        "skipped_unchanged": summary.skipped_unchanged, "rejected": summary.rejected,
        "rejected_by_reason": json.dumps(summary.rejected_by_reason, sort_keys=True),
        "rows_by_table": json.dumps(summary.rows_by_table, sort_keys=True),
        "wall_seconds": summary.wall_seconds, "reports_per_second": summary.reports_per_second,
        "cache_hits": summary.cache_hits, "cache_lookups": summary.cache_lookups,
        "radlite_version": __version__, "options": config.model_dump_json(exclude={"inputs"}),
    }


def run_etl(config: RunConfig, task_stage_factory=None) -> RunSummary:
    """Run once over ``config.inputs`` into ``config.out``; returns the committed run's summary.

    ``task_stage_factory(run_id, store)`` builds the PTransform that runs the tasks (None: no tasks).
    """
    store = OutputStore(config.out)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    run_id = new_run_id(started)
    with store.locked():
        store.recover()
        done_reports, done_rejects = done_keys(store, config.full)
        staging = store.staging_dir(run_id)
        os.makedirs(staging, exist_ok=True)
        task_stage = task_stage_factory(run_id, store) if task_stage_factory else None
        bar = _progress_bar(config)
        try:
            with beam.Pipeline(options=pipeline_options(config)) as p:
                build_pipeline(p, specs=config.inputs, limits=config.limits, run_id=run_id, staging_dir=staging,
                               done_reports=done_reports, done_rejects=done_rejects, task_stage=task_stage,
                               redistribute=config.workers > 1)
            result = p.result
        finally:
            progress.install(None)
            if bar is not None:
                bar.close()
        inject_fault("after_pipeline")
        counts = _counters(result)
        staged = {t: store.staged_files(run_id, t) for t in TABLES if t != "runs"}
        rows = {t: sum(pq.read_metadata(f).num_rows for f in files) for t, files in staged.items()}
        rejected_by_reason = {k.split(".", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("rejected.")}
        rejected = sum(rejected_by_reason.values())
        read = counts.get("read", 0)
        accepted = counts.get("accepted_new", 0) + counts.get("skipped_unchanged", 0)
        wall = time.perf_counter() - t0
        summary = RunSummary(
            run_id=run_id, out=store.root, read=read, accepted=accepted, accepted_new=counts.get("accepted_new", 0),
            skipped_unchanged=counts.get("skipped_unchanged", 0), rejected=rejected,
            rejected_by_reason=rejected_by_reason, rows_by_table=rows, wall_seconds=round(wall, 3),
            reports_per_second=round(read / wall, 2) if wall > 0 else 0.0,
            cache_hits=counts.get("cache_hits", 0), cache_lookups=counts.get("cache_lookups", 0),
            outputs_valid=counts.get("outputs_valid", 0), outputs_invalid=counts.get("outputs_invalid", 0),
            model_seconds=counts.get("model_ms", 0) / 1000, prompt_tokens=counts.get("prompt_tokens", 0),
            completion_tokens=counts.get("completion_tokens", 0),
            reject_rate_exceeded=bool(config.max_reject_rate is not None and read
                                      and rejected / read > config.max_reject_rate),
        )
        if read != accepted + rejected:
            raise RuntimeError(f"record accounting broken: read={read} accepted={accepted} rejected={rejected}")
        runs_dir = os.path.join(staging, "runs")
        os.makedirs(runs_dir, exist_ok=True)
        run_file = os.path.join(runs_dir, "run.parquet")
        finished = datetime.now(timezone.utc)
        pq.write_table(pa.Table.from_pylist([_run_row(summary, config, started, finished)],
                                            schema=arrow_schema("runs")), run_file)
        staged["runs"] = [run_file]
        summary.rows_by_table["runs"] = 1
        store.commit(run_id, staged)
    return summary


def _progress_bar(config: RunConfig):
    """A live reports/s bar on a terminal for in-process runs; nothing for cron or workers."""
    if not config.show_progress or config.workers > 1 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(desc="records", unit=" rec", file=sys.stderr, dynamic_ncols=True)
    progress.install(bar)
    return bar
