"""Read-only, sandboxed SQL over an OUT's catalog: what `radlite sql` may run, and safe CSV cells.

A query sees the catalog's views and the Parquet files under OUT/tables and nothing else: one
statement; SELECT (with WITH, DESCRIBE, SHOW, SUMMARIZE) or EXPLAIN; the catalog opened read-only;
no file access outside OUT/tables (no COPY, ATTACH, read_csv of other files); no extension
installs or loads; configuration locked so a query cannot undo any of it.
"""

from __future__ import annotations

import os

import duckdb

from radlite.store import OutputStore

ALLOWED_STATEMENTS = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN)
#: A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class QueryRefused(ValueError):
    """A statement the sandbox does not run; the message says what is allowed."""


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Exactly one statement, and a read-only one; raises QueryRefused."""
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise QueryRefused(f"one statement per query, got {len(statements)}")
    if statements[0].type not in ALLOWED_STATEMENTS:
        raise QueryRefused(f"{statements[0].type.name} statements are not allowed; radlite sql runs "
                           "SELECT/WITH/DESCRIBE/SHOW/SUMMARIZE/EXPLAIN only (radlite export writes files)")


def open_sandboxed(store: OutputStore) -> duckdb.DuckDBPyConnection:
    """The catalog, read-only, able to read OUT/tables and nothing else."""
    con = duckdb.connect(store.catalog_path, read_only=True,
                         config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    tables_dir = os.path.join(store.root, "tables") + os.sep
    con.execute("SET allowed_directories = ?", [[tables_dir]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_query(store: OutputStore, sql: str) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of one sandboxed query; raises QueryRefused or duckdb.Error."""
    con = open_sandboxed(store)
    try:
        check_statement(con, sql)
        cursor = con.execute(sql)
        return [d[0] for d in cursor.description or []], cursor.fetchall()
    finally:
        con.close()


def csv_safe(value):
    """A cell value that a spreadsheet will not run as a formula (prefixed with a quote when needed)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
