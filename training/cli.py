"""`radlite train ...` and `radlite models ...` commands."""

from __future__ import annotations

import json

import click


@click.group()
def train() -> None:
    """Build datasets, evaluate models and write routing tables (the training subsystem)."""


@train.command("build-data")
@click.option("--source", "sources", multiple=True, metavar="KIND=PATH",
              help="A dataset in its published format (repeatable). KIND: mimic-cxr, ct-rate, radgraph, radgraph-xl, "
                   "radgraph2, chexbert, radnli, merlin, multi-rads, medqa, radialog, llava-med.")
@click.option("--synthetic", type=int, default=0, show_default=True,
              help="Also generate this many SYNTHETIC reports (all nine tasks, labelled synthetic).")
@click.option("--test-per-task", type=int, default=500, show_default=True)
@click.option("--validation-per-task", type=int, default=100, show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def build_data_command(sources, synthetic, test_per_task, validation_per_task, out_dir):
    """Convert sources to instruction records, curate (dedup, validity, caps, seed-42 splits, task weights)
    and write train/validation/test JSONL plus dataset_card.{md,json}."""
    from training.data.build import build_data, parse_source
    from training.data.curation import CurationConfig

    try:
        parsed = [parse_source(s) for s in sources]
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    if not parsed and not synthetic:
        raise click.UsageError("name at least one --source or --synthetic N")
    card = build_data(parsed, out_dir, synthetic,
                      CurationConfig(test_per_task=test_per_task, validation_per_task=validation_per_task))
    for name, split in card["splits"].items():
        click.echo(f"{name:15s} {split['total']:6d}  " + json.dumps(split["by_task"]))
    click.echo(f"dropped: {json.dumps(card['dropped'])}; card: {out_dir}/dataset_card.md")
