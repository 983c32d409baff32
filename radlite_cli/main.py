"""The ``radlite`` command line: command names mapped to the functions of each part of the project.

    run                 pipelines.cli        structure a backlog
    sql, tables,        radlite_cli.catalog  query and describe OUT; the table contract
    schemas
    train, models       training.cli         datasets, evaluation, routing tables, adapters
"""

from __future__ import annotations

import sys

import click

from pipelines.cli import run
from radlite import __version__
from radlite.errors import ExitCode
from radlite_cli.catalog import export, repair, schemas, sql, tables
from radlite_cli.doctor import doctor
from radlite_cli.review import review
from radlite_cli.supervise import supervised
from training.cli import models, train


class RadliteGroup(click.Group):
    """Maps how a command ends to ExitCode: a usage error exits 64, not click's 2 (which means 'locked')."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(ExitCode.USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(ExitCode.FAILED)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(ExitCode.FAILED)


@click.group(cls=RadliteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="radlite")
def cli() -> None:
    """RadLite ETL: turn free-text radiology reports into typed Parquet tables and a DuckDB catalog.

    \b
    radlite run INPUT... --out OUT     structure a backlog (incremental, atomic, resumable)
    radlite tables OUT                 list tables and row counts
    radlite sql OUT "SELECT ..."       query the catalog (read-only, sandboxed)
    radlite export OUT --table T --to F  write one table to .parquet or .csv
    radlite repair OUT                 rebuild a damaged manifest from the data files
    radlite schemas --check            compare code and the checked-in table contract
    radlite doctor                     check this machine: llama.cpp build, CPU, model files, smoke decode
    radlite review OUT --sample N --out DIR  review a sample in a browser; import, report, gate
    radlite train ... / models ...     build datasets, evaluate, route, validate models
    """


for command in (run, sql, export, tables, repair, schemas, train, models, doctor, review):
    cli.add_command(command)


def main() -> None:
    """Console entry point: the command runs in a supervised child process (radlite_cli.supervise)."""
    sys.exit(supervised(lambda: cli.main(prog_name="radlite")))
