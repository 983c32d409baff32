"""The ``radlite`` command line."""

from __future__ import annotations

import json
import logging
import sys

import click

from radlite import __version__

EXIT_OK, EXIT_FAILED, EXIT_LOCKED, EXIT_REJECT_RATE = 0, 1, 2, 3


class _DropBeamImportNoise(logging.Filter):
    """Beam warns at import that optional Google Cloud clients are missing; cron users need silence."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_DropBeamImportNoise())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="radlite")
def main() -> None:
    """RadLite ETL: turn free-text radiology reports into typed Parquet tables and a DuckDB catalog.

    \b
    radlite run INPUT... --out OUT     structure a backlog (incremental, atomic, resumable)
    radlite tables OUT                 list tables and row counts
    radlite sql OUT "SELECT ..."       query the catalog
    radlite schemas --check            compare code and the checked-in table contract
    """


def _parse_section_columns(values: tuple[str, ...]) -> dict[str, str]:
    from radlite.sections import SECTION_NAMES

    mapping = {}
    for value in values:
        section, sep, column = value.partition("=")
        if not sep or section not in SECTION_NAMES:
            raise click.BadParameter(f"{value!r}: use SECTION=COLUMN with SECTION one of {', '.join(SECTION_NAMES)}")
        mapping[section] = column
    return mapping


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory (tables, catalog, state).")
@click.option("--tasks", default="auto", show_default=True,
              help="'auto' (each task where it applies), 'none' (ingest only), or a comma list of task names.")
@click.option("--routing", default="embedded", show_default=True, help="Routing table: a built-in name or a YAML file.")
@click.option("--models-dir", type=click.Path(file_okay=False), help="Where routing entries' GGUF file names are looked up.")
@click.option("--questions", type=click.Path(dir_okay=False, exists=True), help="YAML file of registry questions for radiology_qa.")
@click.option("--allow-unvalidated", is_flag=True, help="Run a routing table whose files do not match its manifest.")
@click.option("--format", "fmt", type=click.Choice(["folder", "zip", "tar", "txt", "csv", "jsonl", "parquet"]),
              help="Input format for all inputs (default: detected from each name).")
@click.option("--id-column", help="Tabular inputs: column with the report id.")
@click.option("--text-column", help="Tabular inputs: column with the full report text.")
@click.option("--section-column", multiple=True, metavar="SECTION=COLUMN",
              help="Tabular inputs: a column holding one section, e.g. findings=Findings_EN (repeatable).")
@click.option("--patient-column", help="Tabular inputs: patient id column.")
@click.option("--study-column", help="Tabular inputs: study id column.")
@click.option("--date-column", help="Tabular inputs: study date column.")
@click.option("--max-report-bytes", type=int, default=256 * 1024, show_default=True, help="Larger reports are rejected (too_large).")
@click.option("--max-reject-rate", type=float, help="Exit with code 3 when rejected/read exceeds this fraction.")
@click.option("--full", is_flag=True, help="Reprocess everything, not only reports new since the last run.")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes (Beam multi-process direct runner).")
@click.option("--quiet", is_flag=True, help="Print nothing on success (for cron); errors still go to stderr.")
@click.option("--summary-json", type=click.Path(dir_okay=False), help="Write the run summary as JSON to this file.")
def run(inputs, out, tasks, routing, models_dir, questions, allow_unvalidated, fmt, id_column, text_column,
        section_column, patient_column, study_column, date_column, max_report_bytes, max_reject_rate, full,
        workers, quiet, summary_json):
    """Read report archives INPUT... (files, folders, globs) and write tables under OUT.

    Formats: MIMIC-CXR zip or folder (files/pNN/pNNNNNNNN/sNNNNNNNN.txt), folders, .zip and .tar.gz of
    .txt reports, CSV/TSV, JSONL and Parquet exports. Only reports whose (report_id, text_sha256) were
    not committed before are processed; a killed run leaves the previous state intact.

    Any argument of the form --name=value that radlite does not know is passed to Apache Beam unchanged,
    e.g. --runner=FlinkRunner --extra_package=dist/radlite-0.1.0-py3-none-any.whl (see README, Scaling out).

    Exit codes: 0 success, 1 failure, 2 OUT is locked by another run, 3 --max-reject-rate exceeded.
    """
    from pipelines.cli_run import execute_run

    beam_args = [a for a in inputs if a.startswith("-")]
    paths = [a for a in inputs if not a.startswith("-")]
    if not paths:
        raise click.UsageError("no INPUT given")
    code = execute_run(
        paths=paths, out=out, tasks=tasks, routing=routing, models_dir=models_dir, questions=questions,
        allow_unvalidated=allow_unvalidated, fmt=fmt,
        columns=dict(id_column=id_column, text_column=text_column, section_columns=_parse_section_columns(section_column),
                     patient_column=patient_column, study_column=study_column, date_column=date_column),
        max_report_bytes=max_report_bytes, max_reject_rate=max_reject_rate, full=full, workers=workers,
        quiet=quiet, summary_json=summary_json, beam_args=beam_args)
    sys.exit(code)


def _open_catalog(out: str):
    import os

    import duckdb

    from radlite.store import OutputStore

    store = OutputStore(out)
    if not os.path.exists(store.manifest_path):
        raise click.ClickException(f"{out} holds no radlite output (no manifest.json)")
    if not store.catalog_is_current():
        store.build_catalog()
    return duckdb.connect(store.catalog_path, read_only=True)


@main.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sql(out, query, fmt):
    """Run a SQL QUERY against the DuckDB catalog of OUT (one view per table)."""
    import duckdb

    con = _open_catalog(out)
    try:
        cursor = con.execute(query)
    except duckdb.Error as exc:
        raise click.ClickException(str(exc)) from None
    columns = [d[0] for d in cursor.description or []]
    rows = cursor.fetchall()
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, r)) for r in rows], default=str, indent=1))
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        Console().print(table)


@main.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
def tables(out):
    """List the tables of OUT with their row counts."""
    from rich.console import Console
    from rich.table import Table

    from radlite.tables import TABLE_DOCS, TABLES

    con = _open_catalog(out)
    table = Table("table", "rows", "contents")
    for name in TABLES:
        (count,) = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        table.add_row(name, str(count), TABLE_DOCS[name])
    Console().print(table)


@main.command()
@click.option("--dir", "directory", default="schemas", show_default=True, type=click.Path(file_okay=False))
@click.option("--write", is_flag=True, help="Regenerate the contract files from code.")
@click.option("--check", is_flag=True, help="Exit 1 when the contract files differ from code.")
def schemas(directory, write, check):
    """Show, write or check the output-table contract (schemas/<table>.json)."""
    import os

    from radlite.tables import TABLES, contract_json, write_contract

    if write:
        for path in write_contract(directory):
            click.echo(f"wrote {path}")
        return
    if check:
        stale = []
        for table in TABLES:
            path = os.path.join(directory, f"{table}.json")
            if not os.path.exists(path) or json.load(open(path)) != contract_json(table):
                stale.append(path)
        if stale:
            raise click.ClickException("contract differs from code: " + ", ".join(stale) + " (radlite schemas --write)")
        click.echo(f"{len(TABLES)} table contracts match the code")
        return
    click.echo(json.dumps({t: contract_json(t) for t in TABLES}, indent=1))


def _register_training_commands() -> None:
    from training.cli import models, train

    main.add_command(train)
    main.add_command(models)


_register_training_commands()

if __name__ == "__main__":
    main()
