"""`radlite doctor`: the checks of radlite.doctor, printed one per line, exit 1 when one fails."""

from __future__ import annotations

import sys

import click

from radlite import doctor as checks
from radlite.errors import ExitCode
from radlite.routing import load_routing


@click.command()
@click.option("--routing", default="embedded", show_default=True, help="Routing table: a built-in name or a YAML file.")
@click.option("--models-dir", type=click.Path(file_okay=False), help="Folder holding the routing table's model files.")
@click.option("--no-smoke", is_flag=True, help="Skip the smoke decodes (only versions, CPU and file checks).")
def doctor(routing: str, models_dir: str | None, no_smoke: bool) -> None:
    """Check that this machine can run ROUTING: versions, the llama.cpp build's CPU features and
    flags, the CPU, every model file's sha256, and one smoke decode per model entry (in a child
    process, with a report of realistic length, so a crash is reported instead of ending the check).

    Exit codes: 0 every check passed, 1 a check failed (the last line says which and what to do).
    """
    found = [checks.versions(), checks.llama_build(), checks.cpu_features()]
    try:
        table = load_routing(routing, models_dir, verify=False)
    except (OSError, ValueError) as exc:
        found.append(checks.Check(f"routing {routing}", False, str(exc).replace("\n", " "),
                                  "name a built-in routing table or an existing YAML file"))
        table = None
    if table is not None:
        files = checks.model_files(table)
        found += files + checks.adapters_in_use(table)
        if not no_smoke and all(c.ok for c in files):
            found += checks.smoke_decodes(table)
    for check in found:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    failed = [c for c in found if not c.ok]
    if failed:
        first = failed[0]
        click.echo(f"error: {len(failed)} check(s) failed; {first.name}: {first.detail}; fix: {first.fix}", err=True)
        sys.exit(ExitCode.FAILED)
