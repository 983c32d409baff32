"""`radlite run`: options -> RunConfig -> run -> summary -> exit code."""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from contextlib import contextmanager

import click
from rich.console import Console

from pipelines.accounting import render_summary
from pipelines.options import RUN_OPTION_CLASSES, InputOptions, OutputOptions, RunnerOptions, TaskOptions
from pipelines.run import RunConfig, RunError, beam_flags, check_runner, run_etl, unknown_beam_args
from radlite.errors import ExitCode
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.io.records import IngestLimits
from radlite.store import OutputLocked, StoreDamaged
from radlite.timeline.pairing import TimelineOptions
from radlite_cli.options import click_options, options_from_cli


@contextmanager
def stderr_kept_for_failures(enabled: bool):
    """With --quiet, hold back everything written to fd 2 (worker processes inherit it) and show it
    only if the run fails: cron stays silent on success and loud on failure."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def fail(message: str) -> None:
    """One unwrapped line on stderr, for people and for the logs of cron jobs."""
    click.echo(f"error: {message}", err=True)


def execute_run(config: RunConfig) -> ExitCode:
    """Run ``config``, print its summary unless quiet, and say how the run ended."""
    output = config.output
    try:
        with stderr_kept_for_failures(output.quiet):
            summary = run_etl(config)
    except OutputLocked as exc:
        fail(str(exc))
        return ExitCode.LOCKED
    except (RunError, StoreDamaged) as exc:
        fail(str(exc))
        return ExitCode.FAILED
    except OSError as exc:  # OUT cannot be created or written: a path under a file, no permission, ...
        fail(f"cannot write to {config.out}: {exc.strerror or exc} ({exc.filename or config.out})")
        return ExitCode.FAILED
    if output.summary_json:
        try:
            with open(output.summary_json, "w") as fh:
                fh.write(summary.model_dump_json(indent=1))
        except OSError as exc:
            fail(f"the run committed, but --summary-json {output.summary_json} could not be written: {exc.strerror}")
            return ExitCode.FAILED
    if not output.quiet:
        render_summary(summary, Console())
    if summary.reject_rate_exceeded:
        fail(f"{summary.rejected}/{summary.read} records rejected, more than --max-reject-rate "
             f"{output.max_reject_rate}; rejects are recorded in the rejects table")
        return ExitCode.REJECT_RATE
    if summary.model_error_rate_exceeded:
        fail(f"{summary.model_errors}/{summary.model_instances} task instances failed in the model, more than "
             f"--max-model-error-rate {output.max_model_error_rate}; their rows say why (error column) and the "
             "next run plans them again; `radlite doctor` checks the llama.cpp build and the model files")
        return ExitCode.MODEL_ERRORS
    return ExitCode.OK


def check_beam_args(beam_args: list[str], ctx: click.Context) -> None:
    """Only options Beam knows pass through; a typo is a usage error naming the closest option."""
    unknown = unknown_beam_args(beam_args)
    if unknown:
        flag = unknown[0].split("=", 1)[0]
        ours = [opt for param in ctx.command.params for opt in getattr(param, "opts", ())]
        close = difflib.get_close_matches(flag, ours + beam_flags(), n=1)
        raise click.UsageError(f"no such option: {flag}" + (f" (did you mean {close[0]}?)" if close else ""))
    try:
        check_runner(ctx.params["runner"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--runner") from None


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Output directory (tables, catalog, state).")
@click_options(*RUN_OPTION_CLASSES)
def run(inputs, out, **values):
    """Read report archives INPUT... (files, folders, globs) and write tables under OUT.

    Formats: MIMIC-CXR zip or folder (files/pNN/pNNNNNNNN/sNNNNNNNN.txt), folders, .zip and .tar.gz of
    .txt reports, CSV/TSV, JSONL and Parquet exports. Only reports whose (report_id, text_sha256) were
    not committed before are processed; a killed run leaves the previous state intact.

    Any argument of the form --name=value that radlite does not know is passed to Apache Beam unchanged,
    e.g. --runner=FlinkRunner --extra_package=dist/radlite-0.1.0-py3-none-any.whl (see README, Scaling out).

    Exit codes: 0 success, 1 failure (a crash of llama.cpp included), 2 OUT is locked by another run,
    3 --max-reject-rate exceeded, 4 --max-model-error-rate exceeded, 64 usage error.
    """
    beam_args = [a for a in inputs if a.startswith("-")]
    paths = [a for a in inputs if not a.startswith("-")]
    if not paths:
        raise click.UsageError("no INPUT given")
    check_beam_args(beam_args, click.get_current_context())
    reading = options_from_cli(InputOptions, values)
    try:
        specs = expand_inputs(paths, reading.format, options_from_cli(ColumnMapping, values), reading.source_name,
                              reading.modality.value if reading.modality else None, reading.hl7_radiology_sections)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
        sys.exit(ExitCode.FAILED)
    config = RunConfig(inputs=specs, out=out, limits=options_from_cli(IngestLimits, values),
                       tasks=options_from_cli(TaskOptions, values), runner=options_from_cli(RunnerOptions, values),
                       output=options_from_cli(OutputOptions, values),
                       timeline=options_from_cli(TimelineOptions, values), beam_args=beam_args,
                       show_progress=not values["quiet"])
    sys.exit(execute_run(config))
