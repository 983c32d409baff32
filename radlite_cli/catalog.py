"""`radlite sql`, `radlite tables`, `radlite schemas`: read OUT through its catalog; the table contract."""

from __future__ import annotations

import csv
import json
import os
import sys

import click
import duckdb
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from radlite.export.fhir import DEFAULT_PATIENT_SYSTEM
from radlite.export.standard import FORMATS, export_standard
from radlite.export.values import ExportError
from radlite.query import QueryRefused, csv_safe, run_query
from radlite.store import OutputLocked, OutputStore, StoreDamaged
from radlite.tables import TABLE_DOCS, TABLES, TASK_TABLES, contract_json, write_contract


def _store(out: str) -> OutputStore:
    """OUT with a current catalog; a clear error when OUT holds no radlite output or is damaged."""
    store = OutputStore(out)
    try:
        if not os.path.exists(store.manifest_path):
            store.manifest()  # raises StoreDamaged when data files are there without a manifest
            raise click.ClickException(f"{out} holds no radlite output (no manifest.json)")
        store.check_files()
        if not store.catalog_is_current():
            store.build_catalog()
    except StoreDamaged as exc:
        raise click.ClickException(str(exc)) from None
    return store


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
def repair(out):
    """Rebuild OUT's manifest from the data files that verify (Parquet with the table's schema, from a
    run whose commit completed); the damaged manifest is kept as manifest.json.damaged."""
    store = OutputStore(out)
    try:
        store.check_no_links()
        with store.locked():
            result = store.repair()
    except (StoreDamaged, OutputLocked) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"manifest rebuilt: {len(result.runs)} runs, {result.files} data files")
    for path in result.dropped:
        click.echo(f"not adopted (incomplete run or unreadable): {path}")


def _write_csv(fh, columns: list[str], rows) -> None:
    writer = csv.writer(fh)
    writer.writerow(columns)
    writer.writerows([csv_safe(v) for v in row] for row in rows)


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sql(out, query, fmt):
    """Run one read-only SQL QUERY against the DuckDB catalog of OUT (one view per table).

    Sandboxed: SELECT/WITH/DESCRIBE/SHOW/SUMMARIZE/EXPLAIN only, no file access outside OUT/tables,
    no extensions. CSV cells that a spreadsheet would run as a formula are prefixed with a quote.
    To write a table to a file use `radlite export`.
    """
    try:
        columns, rows = run_query(_store(out), query)
    except (QueryRefused, duckdb.Error) as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, r)) for r in rows], default=str, indent=1))
    elif fmt == "csv":
        _write_csv(sys.stdout, columns, rows)
    else:
        table = Table(*columns)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        Console().print(table)


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.option("--table", "table_name", type=click.Choice(list(TABLES)), help="Table to export (--format table).")
@click.option("--to", "target", required=True, type=click.Path(),
              help="--format table: a .parquet (typed, as committed) or .csv file (formula cells neutralised); "
                   "fhir, omop: a folder, written whole or not at all (an earlier export there is replaced).")
@click.option("--format", "fmt", type=click.Choice(["table", *FORMATS]), default="table", show_default=True,
              help="table: one table; fhir: FHIR R4 Bulk Data NDJSON; omop: OMOP CDM v5.4 NOTE and NOTE_NLP "
                   "(docs/standards.md).")
@click.option("--since", "since", metavar="RUN_ID", help="fhir, omop: only reports with rows from runs after this one.")
@click.option("--with-text", is_flag=True, help="fhir: include report text (presentedForm, conclusion, evidence "
                                                "words); it carries PHI.")
@click.option("--concept-map", type=click.Path(dir_okay=False, exists=True),
              help="omop: a site's Athena CONCEPT.csv; codes found in it get their concept_id (else 0).")
@click.option("--patient-system", default=DEFAULT_PATIENT_SYSTEM, show_default=True,
              help="fhir: identifier system of the patient ids (the site's MRN system URI).")
@click.option("--include-withheld", is_flag=True,
              help="Also export withheld values (left out by default), marked: FHIR Observation status preliminary "
                   "with a withheld extension, OMOP NOTE_NLP term_exists N with withheld=CODE in term_modifiers; "
                   "--format table: the withheld rows too (docs/standards.md).")
def export(out, table_name, target, fmt, since, with_text, concept_map, patient_system, include_withheld):
    """Write one table of OUT to a Parquet or CSV file, or OUT as FHIR R4 or OMOP NOTE/NOTE_NLP to a folder."""
    if fmt != "table":
        try:
            manifest = export_standard(_store(out), fmt, target, since=since, with_text=with_text,
                                       concept_map=concept_map, patient_system=patient_system,
                                       include_withheld=include_withheld)
        except (ExportError, FileExistsError, StoreDamaged) as exc:
            raise click.ClickException(str(exc)) from None
        counts = ", ".join(f"{n} {name}" for name, n in {o.type: o.count for o in manifest.output}.items())
        click.echo(f"wrote {fmt} export of {manifest.extension.reports} reports to {target}: {counts}")
        return
    if table_name is None:
        raise click.BadParameter("name the table to export", param_hint="--table")
    if not target.endswith((".parquet", ".csv")):
        raise click.BadParameter("name a .parquet or .csv file", param_hint="--to")
    rows = _store(out).read_table(table_name, include_withheld=include_withheld)
    if target.endswith(".parquet"):
        pq.write_table(rows, target)
    else:
        with open(target, "w", newline="") as fh:
            _write_csv(fh, rows.column_names, (tuple(r.values()) for r in rows.to_pylist()))
    click.echo(f"wrote {rows.num_rows} rows of {table_name} to {target}")


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
def tables(out):
    """List the tables of OUT with their row counts (of a task table: published rows, and withheld ones)."""
    store = _store(out)
    table = Table("table", "rows", "withheld", "contents")
    for name in TABLES:
        (_, [(count,)]) = run_query(store, f'SELECT count(*) FROM "{name}"')
        withheld = run_query(store, f'SELECT count(*) FROM "{name}_withheld"')[1][0][0] if name in TASK_TABLES else ""
        table.add_row(name, str(count), str(withheld), TABLE_DOCS[name])
    Console().print(table)


@click.command()
@click.option("--dir", "directory", default="schemas", show_default=True, type=click.Path(file_okay=False))
@click.option("--write", is_flag=True, help="Regenerate the contract files from code.")
@click.option("--check", is_flag=True, help="Exit 1 when the contract files differ from code.")
def schemas(directory, write, check):
    """Show, write or check the output-table contract (schemas/<table>.json)."""
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
