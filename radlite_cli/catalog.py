"""`radlite sql`, `radlite tables`, `radlite schemas`: read OUT through its catalog; the table contract."""

from __future__ import annotations

import csv
import json
import os
import sys

import click
import duckdb
from rich.console import Console
from rich.table import Table

from radlite.store import OutputStore
from radlite.tables import TABLE_DOCS, TABLES, contract_json, write_contract


def _open_catalog(out: str):
    store = OutputStore(out)
    if not os.path.exists(store.manifest_path):
        raise click.ClickException(f"{out} holds no radlite output (no manifest.json)")
    if not store.catalog_is_current():
        store.build_catalog()
    return duckdb.connect(store.catalog_path, read_only=True)


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sql(out, query, fmt):
    """Run a SQL QUERY against the DuckDB catalog of OUT (one view per table)."""
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
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        table = Table(*columns)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        Console().print(table)


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True))
def tables(out):
    """List the tables of OUT with their row counts."""
    con = _open_catalog(out)
    table = Table("table", "rows", "contents")
    for name in TABLES:
        (count,) = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        table.add_row(name, str(count), TABLE_DOCS[name])
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
