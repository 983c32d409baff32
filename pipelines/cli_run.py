"""`radlite run`: turn CLI arguments into a RunConfig, run it, print the summary, pick the exit code."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager

from radlite.io.inputs import ColumnMapping, InputFormat, expand_inputs
from radlite.io.records import IngestLimits
from radlite.store import OutputLocked


def render_summary(summary, console) -> None:
    """The end-of-run summary: accounting, rejects by reason, rows per table, speed."""
    from rich.table import Table

    console.print(f"[bold]run {summary.run_id}[/bold] -> {summary.out}")
    console.print(f"read {summary.read} = accepted {summary.accepted} "
                  f"(new {summary.accepted_new}, unchanged {summary.skipped_unchanged}) + rejected {summary.rejected}")
    if summary.rejected_by_reason:
        console.print("rejected by reason: " + ", ".join(f"{k}={v}" for k, v in summary.rejected_by_reason.items()))
    table = Table("table", "rows added")
    for name, rows in summary.rows_by_table.items():
        table.add_row(name, str(rows))
    console.print(table)
    if summary.cache_lookups:
        console.print(f"result cache: {summary.cache_hits}/{summary.cache_lookups} hits "
                      f"({100 * summary.cache_hits / summary.cache_lookups:.0f}%)")
    outputs = summary.outputs_valid + summary.outputs_invalid
    if outputs:
        console.print(f"model outputs: {summary.outputs_valid}/{outputs} valid; "
                      f"{summary.model_seconds:.1f}s in the model, {summary.completion_tokens} tokens generated")
    console.print(f"wall {summary.wall_seconds:.1f}s, {summary.reports_per_second:.1f} records/s")


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


def execute_run(*, paths, out, tasks, routing, models_dir, questions, allow_unvalidated, fmt, columns,
                max_report_bytes, max_reject_rate, full, workers, quiet, summary_json, beam_args) -> int:
    from rich.console import Console

    from pipelines.run import RunConfig, run_etl
    from pipelines.task_stage import resolve_task_stage

    err = Console(stderr=True)
    try:
        specs = expand_inputs(paths, InputFormat(fmt) if fmt else None, ColumnMapping(**columns))
        stage_factory, task_names = resolve_task_stage(tasks=tasks, routing=routing, models_dir=models_dir,
                                                       questions=questions, allow_unvalidated=allow_unvalidated)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 1
    config = RunConfig(inputs=specs, out=out, limits=IngestLimits(max_report_bytes=max_report_bytes),
                       tasks=task_names, routing=routing if task_names else None, full=full, workers=workers,
                       beam_args=beam_args, max_reject_rate=max_reject_rate, show_progress=not quiet)
    try:
        with stderr_kept_for_failures(quiet):
            summary = run_etl(config, stage_factory)
    except OutputLocked as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    if summary_json:
        with open(summary_json, "w") as fh:
            fh.write(summary.model_dump_json(indent=1))
    if not quiet:
        render_summary(summary, Console())
    if summary.reject_rate_exceeded:
        err.print(f"[red]error:[/red] {summary.rejected}/{summary.read} records rejected, more than "
                  f"--max-reject-rate {max_reject_rate}; rejects are recorded in the rejects table")
        return 3
    return 0
