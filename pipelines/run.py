"""One ETL run end to end: lock, recover, run the Beam graph, count, commit, summarise."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser
from apache_beam.runners.runner import create_runner
from pydantic import BaseModel, Field, ValidationError
from tqdm import tqdm

from pipelines import progress
from pipelines.accounting import RunCounts, RunSummary
from pipelines.cluster import ClusterNotReady, check_dask_cluster
from pipelines.etl import build_pipeline
from pipelines.options import OutputOptions, RunnerOptions, TaskOptions
from pipelines.process import LEDGER, LEDGER_SCHEMA, RecordProcessor
from pipelines.retry import FailedInstance, failed_instances, model_failures, worth_retrying
from pipelines.task_stage import TaskStage
from radlite.io.inputs import InputSpec
from radlite.io.records import IngestLimits
from radlite.kinds import ResultCache, crashlog
from radlite.store import OutputStore, StoreRun
from radlite.tables import EVIDENCE_TABLES, REVIEW_TABLES, TABLES, TASK_TABLES, TIMELINE_TABLES
from radlite.tasks import TASKS
from radlite.timeline.build import refresh_timeline
from radlite.timeline.pairing import TimelineOptions

try:  # the 'dask' extra: registers Beam's DaskRunner options (--dask_client_address, ...) when installed
    import apache_beam.runners.dask.dask_runner  # noqa: F401
except ImportError:
    pass

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


class RunConfig(BaseModel):
    """Everything a run needs; built by the CLI, usable directly from Python."""

    inputs: list[InputSpec]
    out: str
    limits: IngestLimits = Field(default_factory=IngestLimits)
    tasks: TaskOptions = Field(default_factory=TaskOptions)
    runner: RunnerOptions = Field(default_factory=RunnerOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)
    timeline: TimelineOptions = Field(default_factory=TimelineOptions)
    #: Options passed to Apache Beam unchanged (e.g. --runner=...).
    beam_args: list[str] = Field(default_factory=list)
    show_progress: bool = False


class RunError(RuntimeError):
    """The run could not start: bad task selection, routing table, questions or inputs."""


def done_keys(store: OutputStore, full: bool) -> tuple[frozenset, frozenset]:
    """(report_id, text_sha256) pairs and reject ids already committed; empty with --full."""
    if full:
        return frozenset(), frozenset()
    reports = store.read_table("reports", ["report_id", "text_sha256"])
    rejects = store.read_table("rejects", ["reject_id"])
    pairs = frozenset(zip(reports.column("report_id").to_pylist(), reports.column("text_sha256").to_pylist()))
    return pairs, frozenset(rejects.column("reject_id").to_pylist())


def committed_statuses(store: OutputStore) -> dict[str, str]:
    """report_id -> result_status of the current committed reports that have one (HL7 results): a later
    run must not replace a final result by a preliminary one sent late (radlite.io.hl7.outranked)."""
    reports = store.read_table("reports", ["report_id", "result_status"])
    return {r: s for r, s in zip(reports.column("report_id").to_pylist(), reports.column("result_status").to_pylist())
            if s}


def instances_to_retry(store: OutputStore, stage: TaskStage | None) -> list[FailedInstance]:
    """Committed task instances whose model call failed and that this run plans again (pipelines.retry)."""
    if stage is None or not store.manifest().files.get("reports"):
        return []
    columns = ["report_id", "task", "model_id", "valid", "error"]
    found = []
    for table in sorted({TASKS[name].table for name in stage.task_names}):
        current = model_failures(store.read_table(table, columns))
        if current.num_rows:  # the history is read only for a table that has failures to count
            found += failed_instances(current, store.read_table(table, columns + ["run_id"], history=True))
    return [f for f in found if worth_retrying(f, stage.routing)]


def _beam_parser() -> _BeamArgumentParser:
    """Beam's own option parser, built the way PipelineOptions.get_all_options builds it."""
    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    return parser


def unknown_beam_args(args: list[str]) -> list[str]:
    """The arguments no Beam options class declares (Beam itself would only log and drop them)."""
    return [a for a in _beam_parser().parse_known_args(args)[1] if a.startswith("-")]


def beam_flags() -> list[str]:
    return [flag for action in _beam_parser()._actions for flag in action.option_strings]


def check_runner(runner: str) -> None:
    """Raise ValueError when --runner names no runner Beam can create."""
    if runner not in ("direct", "dask"):
        create_runner(runner)


def pipeline_options(config: RunConfig, shards: int = 1) -> PipelineOptions:
    """Beam options: in-process DirectRunner by default, --workers N processes; --runner dask the
    DaskRunner on --dask-address; another --runner name, and anything in beam_args, goes to Beam."""
    args = list(config.beam_args)
    runner = config.runner
    if runner.runner == "direct":
        args.append("--runner=DirectRunner")
        if runner.workers > 1:
            args += [f"--direct_num_workers={runner.workers}", "--direct_running_mode=multi_processing",
                     "--default_sdk_harness_log_level=ERROR"]  # worker processes log INFO otherwise
    elif runner.runner == "dask":
        args += [f"--runner={DASK_RUNNER}", f"--dask_client_address={runner.dask_address}"]
    else:
        args.append(f"--runner={runner.runner}")
    if uses_dask(config) and not any(a.startswith(("--dask_npartitions", "--dask_partition_size")) for a in args):
        args.append(f"--dask_npartitions={shards}")  # one shard per partition
    return PipelineOptions(args)


def uses_dask(config: RunConfig) -> str | None:
    """The scheduler address when the run goes to a Dask cluster (--runner dask, or the DaskRunner
    named with Beam's own --dask_client_address)."""
    if config.runner.runner == "dask":
        return config.runner.dask_address
    if config.runner.runner.endswith("DaskRunner"):
        return next((a.split("=", 1)[1] for a in config.beam_args if a.startswith("--dask_client_address=")), None)
    return None


@contextmanager
def beam_errors_unlogged() -> Iterator[None]:
    """Beam logs a failing bundle's traceback before it raises the error; the run reports every error
    itself, in one line (a cron job would mail the traceback), so Beam's own log stays quiet meanwhile."""
    logger = logging.getLogger("apache_beam")
    saved = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(saved)


@contextmanager
def temp_files_under(directory: str) -> Iterator[None]:
    """Beam's temporary folders (and worker processes') go under ``directory`` for the block, so they
    are removed with the run's staging directory instead of piling up in /tmp."""
    os.makedirs(directory, exist_ok=True)
    saved_dir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir, os.environ["TMPDIR"] = directory, directory
    try:
        yield
    finally:
        tempfile.tempdir = saved_dir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` or what caused it (Beam wraps errors raised in workers) is ENOSPC."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def check_inputs_outside(inputs: list[InputSpec], out: str) -> None:
    """Refuse an input that is OUT, lies inside OUT or contains OUT: a run must never read its own output."""
    out_real = os.path.realpath(out)
    for spec in inputs:
        path = os.path.realpath(spec.path)
        if path == out_real or out_real.startswith(path + os.sep) or path.startswith(out_real + os.sep):
            raise RunError(f"input {spec.path} overlaps the output directory {out}; keep inputs and OUT apart")


def run_etl(config: RunConfig, on_step: Callable[[str], None] | None = None) -> RunSummary:
    """Run once over ``config.inputs`` into ``config.out``; returns the committed run's summary.

    ``on_step(name)`` is told each step of the run's end (``after_pipeline`` and the store's commit
    steps); see OutputStore. Raises RunError when the run cannot start or the disk fills up
    (nothing committed), StoreDamaged when OUT needs `radlite repair`, OutputLocked when busy.
    """
    try:
        stage = TaskStage.resolve(config.tasks)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise RunError(str(exc).replace("\n", " ")) from None
    check_inputs_outside(config.inputs, config.out)
    shards = config.runner.workers
    if address := uses_dask(config):
        try:
            # two shards per worker: a slow one is shared out
            shards = 2 * len(check_dask_cluster(address, stage.routing.model_files() if stage else []))
        except ClusterNotReady as exc:
            raise RunError(str(exc)) from None
    store = OutputStore(config.out, on_step)
    run = store.new_run("etl")
    with store.locked():
        store.recover()
        try:
            return _run_and_commit(config, run, stage, shards)
        except Exception as exc:
            crashed = crashlog.crashes(os.environ.get(crashlog.ENV)) + crashlog.crashes(run.crash_dir)
            if not crashed and not is_disk_full(exc):
                raise
            shutil.rmtree(run.staging_dir, ignore_errors=True)
            if crashed:  # a worker process died in native code: the runner's own error says less
                raise RunError(crashed[0].message()) from None
            raise RunError(f"disk full while writing {store.root}: nothing of this run was committed and its "
                           "staging files were removed; the previous state is intact") from None


def _run_and_commit(config: RunConfig, run: StoreRun, stage: TaskStage | None, shards: int) -> RunSummary:
    """One locked run: stage (the graph writes its rows under staging), count (the ledger gives the
    summary, which checks the accounting), commit (the runs row, then the store's atomic commit)."""
    t0 = time.perf_counter()
    retried = [] if config.output.full else instances_to_retry(run.store, stage)
    _stage(config, run, stage, shards, retried)
    run.store.on_step("after_pipeline")
    staged, summary = _count(config, run, stage, t0, len(retried))
    _commit(config, run, stage, staged, summary)
    return summary


def _stage(config: RunConfig, run: StoreRun, stage: TaskStage | None, shards: int,
           retried: list[FailedInstance]) -> None:
    """Run the Beam graph over the inputs; every row lands under the run's staging directory."""
    store = run.store
    done_reports, done_rejects = done_keys(store, config.output.full)
    if retried:
        again = {f.report_id for f in retried}
        done_reports = frozenset(pair for pair in done_reports if pair[0] not in again)
    staging = run.staging_dir
    os.makedirs(staging, exist_ok=True)
    crashlog.note_staging(staging)
    cache_path = store.cache_path if stage else None
    if cache_path:
        ResultCache(cache_path).close()  # created (WAL mode) here, before workers race to create it
    processor = RecordProcessor(config.limits, done_reports, done_rejects, stage, run.run_id, cache_path,
                                crash_dir=run.crash_dir, committed_status=committed_statuses(store))
    bar = _progress_bar(config)
    try:
        options = pipeline_options(config, shards)
        with beam_errors_unlogged(), temp_files_under(run.temp_dir), beam.Pipeline(options=options) as p:
            build_pipeline(p, specs=config.inputs, limits=config.limits, processor=processor, staging_dir=staging,
                           shards=shards)
    finally:
        processor.close()
        progress.install(None)
        if bar is not None:
            bar.close()


def _count(config: RunConfig, run: StoreRun, stage: TaskStage | None, t0: float,
           retried: int) -> tuple[dict[str, list[str]], RunSummary]:
    """The staged files per table (a runner's duplicate bundles dropped) and the run's summary, summed
    from the ledger rows; RunSummary refuses a run whose records do not add up."""
    staged = {t: run.staged_files(t) for t in TABLES if t != "runs" and t not in REVIEW_TABLES + TIMELINE_TABLES}
    ledger = read_staged(run.staged_files(LEDGER), LEDGER_SCHEMA)
    if ledger.num_rows != len(set(zip(ledger.column("source").to_pylist(), ledger.column("sequence").to_pylist()))):
        staged = {t: dedupe_files(files, run.deduped_file(t)) for t, files in staged.items()}
    read = {t: _column_values(staged[t], ("withheld", "confidence", "withheld_reason")
                              + (("grounded", "supported") if t in EVIDENCE_TABLES else ())) for t in TASK_TABLES}
    counts = RunCounts.from_staged(
        ledger, {t: read[t]["grounded"] for t in EVIDENCE_TABLES}, {t: read[t]["supported"] for t in EVIDENCE_TABLES},
        {t: read[t]["withheld"] for t in TASK_TABLES},
        {t: list(zip(read[t]["confidence"], read[t]["withheld_reason"], strict=True)) for t in TASK_TABLES})
    rows = {t: sum(pq.read_metadata(f).num_rows for f in files) for t, files in staged.items()}
    try:
        summary = RunSummary(**counts.model_dump(), run_id=run.run_id, out=run.store.root, rows_by_table=rows,
                             wall_seconds=round(time.perf_counter() - t0, 3), model_retried=retried,
                             **_unrouted(stage, counts.unrouted_by_task))
    except ValidationError as exc:
        raise RuntimeError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    rate = config.output.max_reject_rate
    summary.reject_rate_exceeded = bool(rate is not None and summary.read and summary.rejected / summary.read > rate)
    error_rate = config.output.max_model_error_rate
    summary.model_error_rate_exceeded = bool(error_rate is not None and summary.model_instances
                                             and summary.model_errors / summary.model_instances > error_rate)
    return staged, summary


def _column_values(files: list[str], names: tuple[str, ...]) -> dict[str, list]:
    """Every staged row's values of the columns ``names``, each file read once."""
    values: dict[str, list] = {name: [] for name in names}
    for path in files:
        table = pq.read_table(path, columns=list(names))
        for name in names:
            values[name] += table.column(name).to_pylist()
    return values


def _unrouted(stage: TaskStage | None, tasks: dict[str, int]) -> dict:
    """The routing's name and, for each task it left unrun, why its manifest routes it nowhere."""
    if stage is None:
        return {}
    figures = stage.routing.manifest.unrouted
    return {"routing": stage.routing.name,
            "unrouted_reasons": {t: figures[t].reason.removeprefix("none: ") for t in tasks if t in figures}}


def _commit(config: RunConfig, run: StoreRun, stage: TaskStage | None, staged: dict[str, list[str]],
            summary: RunSummary) -> None:
    """Commit the staged files with the runs row (staged last, atomically), then refresh the timeline of
    the touched patients."""
    row = run.runs_row(summary.model_dump(), inputs=[s.path for s in config.inputs],
                       tasks=stage.task_names if stage else [], routing=config.tasks.routing if stage else None,
                       options=config.model_dump_json(exclude={"inputs"}))
    summary.rows_by_table["runs"] = 1
    run.commit(staged, row)
    refresh_timeline(run.store, run.run_id, config.timeline)  # pairing and finding timeline of the touched patients


def read_staged(files: list[str], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables([pq.read_table(f, schema=schema) for f in files]) if files else schema.empty_table()


def dedupe_files(files: list[str], path: str) -> list[str]:
    """One file, ``path``, with the distinct rows of ``files``: what a runner wrote twice (a bundle retried
    with another split) is kept once. Only needed when the ledger shows a record written twice."""
    if not files:
        return files
    table = pa.concat_tables([pq.read_table(f) for f in files])
    # Rows compared as JSON: Arrow cannot group by list columns (reports.tasks_planned).
    rows = {json.dumps(row, sort_keys=True, default=str): row for row in table.to_pylist()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(rows.values()), schema=table.schema), path)
    return [path]


def _progress_bar(config: RunConfig):
    """A live reports/s bar on a terminal for in-process runs; nothing for cron or workers."""
    if not config.show_progress or config.runner.workers > 1 or not sys.stderr.isatty():
        return None
    bar = tqdm(desc="records", unit=" rec", file=sys.stderr, dynamic_ncols=True)
    progress.install(bar)
    return bar
