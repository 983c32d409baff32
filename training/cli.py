"""`radlite train ...` and `radlite models ...` commands."""

from __future__ import annotations

import json
import os
import shlex
import sys
from datetime import date

import click
import yaml
from tqdm import tqdm

from radlite.calibration import Calibration, load_calibration
from radlite.errors import ExitCode
from radlite.kinds.rules import RULES
from radlite.routing import (
    Adapter,
    ModelEntry,
    RoutingTable,
    load_routing,
    write_routing,
)
from radlite.tasks import TASKS
from radlite_cli.options import click_options, options_from_cli
from training.calibrate import calibrate, merged, report_lines, write_plot
from training.data.build import build_data, load_split, parse_source
from training.data.curation import CurationConfig
from training.data.sources.openi import read_test_ids
from training.eval.ledger import LEDGER, on_test_list, record_evaluation
from training.eval.predict import predict
from training.eval.records import Evaluation
from training.eval.report import summarize, trivial_comparisons, with_evidence, write_evaluation
from training.export import export_lora_adapter, merge_to_gguf
from training.gate import first_per_task, validate
from training.lora import load_preset, train_lora
from training.options import (
    BuildDataOptions,
    CalibrateOptions,
    EvalOptions,
    ExportOptions,
    LoraOptions,
    ModelTableOptions,
    RouteOptions,
    ValidateOptions,
    base_model_path,
)
from training.route import RouteRefused, build_routing


@click.group()
def train() -> None:
    """Build datasets, evaluate models and write routing tables (the training subsystem)."""


@train.command("build-data")
@click_options(BuildDataOptions)
def build_data_command(**values):
    """Convert sources to instruction records, curate (dedup, validity, caps, seed-42 splits, task weights)
    and write train/validation/test JSONL plus dataset_card.{md,json}."""
    o = options_from_cli(BuildDataOptions, values)
    sources, synthetic, out_dir = o.sources, o.synthetic, o.out_dir
    try:
        parsed = [parse_source(s) for s in sources]
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    if not parsed and not synthetic:
        raise click.UsageError("name at least one --source or --synthetic N")
    card = build_data(parsed, out_dir, synthetic,
                      CurationConfig(test_per_task=o.test_per_task, validation_per_task=o.validation_per_task,
                                     test_reports=frozenset(read_test_ids(o.test_ids)) if o.test_ids else frozenset()))
    for name, split in card.splits.items():
        click.echo(f"{name:15s} {split.total:6d}  " + json.dumps(split.by_task))
    click.echo(f"dropped: {json.dumps(card.dropped)}; card: {out_dir}/dataset_card.md")


@train.command("eval")
@click_options(EvalOptions)
def eval_command(**values):
    """Evaluate ROUTING on a split with the paper's metrics: eval.json, eval_report.md, PNG plots;
    with --baseline also McNemar / Wilcoxon per task between the two; with --trivial-from also
    impression generation against the trivial baselines (Wilcoxon)."""
    o = options_from_cli(EvalOptions, values)
    routing, split_path, baseline, models_dir, out_dir = o.routing, o.split_path, o.baseline, o.models_dir, o.out_dir
    k_shot, shots_path, trivial_from = o.k_shot, o.shots_path, o.trivial_from
    records = first_per_task(load_split(split_path), o.limit_per_task)
    shots = load_split(shots_path) if shots_path else []
    split = os.path.basename(split_path)

    def run(name: str) -> Evaluation:
        table = load_routing(name, models_dir)
        with tqdm(total=len(records), desc=table.name, disable=None) as bar:
            predictions = predict(records, table, k_shot=k_shot, shot_pool=shots, progress=bar.update)
        evaluation = with_evidence(summarize(predictions, table, split), records)
        return evaluation.model_copy(update={"test_list_records": sum(map(on_test_list, records))})

    evaluation = run(routing)
    if trivial_from:
        evaluation = evaluation.model_copy(update={"trivial": trivial_comparisons(records, load_split(trivial_from),
                                                                                  evaluation, split)})
    reference = run(baseline) if baseline else None
    comparison = write_evaluation(out_dir, evaluation, reference).comparison or {}
    count = record_evaluation([e for e in (evaluation, reference) if e], records)
    if count:
        click.echo(f"this split holds reports of the fixed IU X-ray test list: recorded in {LEDGER} "
                   f"({count} scorings so far)")
    for task, figures in evaluation.tasks.items():
        line = f"{task:24s} {figures.metric:20s} {figures.score:.3f}  valid {figures.validity:.2f}"
        if task in comparison:
            line += f"  vs {comparison[task].baseline:.3f} (p={comparison[task].p_value:.3g})"
        click.echo(line)
    for name, c in (evaluation.trivial or {}).items():
        click.echo(f"impression_generation vs {name}: {c.baseline:.3f} -> {c.candidate:.3f} (p={c.p_value:.3g})")
    click.echo(f"wrote {out_dir}/eval.json, eval_report.md and plots")


def _interval(figures) -> str:
    """'[low-high] n=N, <evidence> text, baseline B' for one task's manifest figures."""
    baseline = "" if figures.baseline_score is None else f", baseline {figures.baseline_score:.3f}"
    return f"[{figures.ci95[0]:.3f}-{figures.ci95[1]:.3f}] n={figures.n}, {figures.evidence} text{baseline}"


@train.command("route")
@click.argument("evaluations", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click_options(RouteOptions)
def route_command(evaluations, **values):
    """Route each task from validation-split EVALUATIONS (eval.json files): only figures on the best
    evidence any candidate has compete (real text, then written, then synthetic); a model gets a task
    only where its lower 95% bound beats the rules and the trivial baseline, else the rules, else no
    route (a run skips the task). Candidates whose extracted values are mostly not in the report are
    passed over (--min-grounded); ties go to the smaller model. Writes the routing table with its
    manifest: sha256s, figures with evidence, interval, n and baseline, minimum scores."""
    o = options_from_cli(RouteOptions, values)
    try:
        minimums = load_routing(o.min_scores_from).manifest if o.min_scores_from else None
        table = build_routing(list(evaluations), o.out_path, o.name, o.smoke_set, o.min_grounded, o.baseline,
                              minimums)
    except RouteRefused as exc:
        raise click.ClickException(str(exc)) from None
    for task, key in table.tasks.items():
        figures = table.manifest.figures[task]
        minimum = table.manifest.min_scores[task]
        grounded = "" if figures.grounded_share is None else f", grounded {figures.grounded_share:.2f}"
        click.echo(f"{task:24s} -> {key}  {figures.metric} {figures.score:.3f} {_interval(figures)}{grounded} "
                   f"(min {minimum:.3f}); {figures.reason}")
    for task, figures in table.manifest.unrouted.items():
        click.echo(f"{task:24s} -> no route (a run skips it); best {figures.model} {figures.metric} "
                   f"{figures.score:.3f} {_interval(figures)}; {figures.reason}")
    click.echo(f"wrote {o.out_path}")


@train.command("calibrate")
@click_options(CalibrateOptions)
def calibrate_command(**values):
    """Fit each task table's confidence calibration (isotonic, scikit-learn) on real-text validation gold (and
    the hand-written RADS and oncology sets, labelled written) and write the maps a routing ships; with
    --docs a reliability diagram and the ECE per table; with --update-routing the manifest's calibration file
    and min_confidence per table (docs/quality/calibration.md)."""
    o = options_from_cli(CalibrateOptions, values)
    routing = load_routing(o.routing)
    command = "radlite train calibrate " + shlex.join(sys.argv[3:] if sys.argv[1:3] == ["train", "calibrate"]
                                                      else sys.argv[1:])
    fits = calibrate(routing, o.data_dir, o.tables, o.abnormality_reports, o.limit, click.echo)
    if not fits:
        raise click.ClickException("no table could be fitted")
    previous = load_calibration(o.out_path) if os.path.exists(o.out_path) else Calibration()
    calibration = merged(previous, fits, f"{command} ({date.today().isoformat()})")
    with open(o.out_path, "w") as fh:
        fh.write(calibration.model_dump_json(indent=1) + "\n")
    lines = report_lines(calibration)
    click.echo("\n".join(lines))
    if o.docs_dir:
        for fit in fits:
            write_plot(fit, os.path.join(o.docs_dir, f"calibration-{fit.table}.png"))
        with open(os.path.join(o.docs_dir, "calibration-figures.md"), "w") as fh:
            fh.write("\n".join(["# Calibration figures (written by `radlite train calibrate`)", "", *lines, ""]))
    if o.update_routing:
        update_manifest(o.update_routing, o.out_path, {t: m.min_confidence for t, m in calibration.tables.items()})
    click.echo(f"wrote {o.out_path}")


def update_manifest(routing_path: str, calibration_path: str, minimums: dict[str, float]) -> None:
    """Name the calibration file (relative to the routing) and set min_confidence in a routing YAML's manifest."""
    with open(routing_path) as fh:
        data = yaml.safe_load(fh)
    manifest = data.setdefault("manifest", {})
    manifest["calibration"] = os.path.relpath(calibration_path, os.path.dirname(os.path.abspath(routing_path)))
    manifest["min_confidence"] = minimums
    manifest["min_confidence_basis"] = (
        "per table, the highest step of its calibration map below which the validation gold's values, "
        "calibrated out of fold (5 folds), are right less than half the time (training/calibrate.py, "
        "min_confidence); 0: no band of that table is")
    with open(routing_path, "w") as fh:  # wrapped as write_routing wraps, so only the manifest changes
        yaml.safe_dump(data, fh, sort_keys=False)


@train.command("model-table")
@click.argument("tasks", nargs=-1, required=True)
@click_options(ModelTableOptions)
def model_table_command(tasks, **values):
    """Write a routing table that sends TASKS to one model (base + adapters), to the rules, or to the
    rules then the model (a cascade), e.g. to evaluate it as a routing candidate."""
    o = options_from_cli(ModelTableOptions, values)
    name, adapters, merge, rules_mode = o.name, o.adapters, o.merge, o.rules_mode
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise click.BadParameter(f"unknown task(s) {', '.join(unknown)}", param_hint="TASKS")
    if merge and not adapters:
        raise click.BadParameter("--merge needs at least one --adapter", param_hint="--merge")
    model = ModelEntry(path=o.base, adapters=tuple(Adapter(path=os.path.abspath(a)) for a in adapters),
                       threads=o.threads, merge=merge)
    models = {"rules": ModelEntry(kind=RULES)} if rules_mode else {}
    if rules_mode != "only":
        models[name] = model
    route = list(models) if len(models) > 1 else next(iter(models))
    write_routing(RoutingTable(name=name, models=models, tasks=dict.fromkeys(tasks, route)), o.out_path)
    click.echo(f"wrote {o.out_path}")


@click.group()
def models() -> None:
    """Check the model files a routing table points at."""


@models.command("validate")
@click.argument("routing", default="embedded")
@click_options(ValidateOptions)
def validate_command(routing, **values):
    """Check every file's sha256 and GGUF metadata and run the manifest's smoke evaluation;
    exit 1 on any mismatch or any task below its minimum score. ROUTING defaults to the embedded route."""
    o = options_from_cli(ValidateOptions, values)
    result = validate(routing, o.models_dir, o.smoke_limit)
    for task, score in result.scores.items():
        why = result.unchecked.get(task)
        click.echo(f"{task:24s} smoke score {score:.3f}" + (f" (no minimum: {why})" if why else ""))
    if not result.ok:
        for problem in result.problems:
            click.echo(f"FAIL: {problem}", err=True)
        raise SystemExit(ExitCode.FAILED)
    click.echo(f"{routing}: OK")


@train.command("lora")
@click_options(LoraOptions)
def lora_command(**values):
    """LoRA-tune BASE on DATA with a preset (loss on answer tokens only; resumes from OUT/checkpoint.pt)."""
    o = options_from_cli(LoraOptions, values)
    records = load_split(o.data_path)[:o.max_examples]
    summary = train_lora(records, base_model_path(o.base), load_preset(o.preset), o.out_dir, max_steps=o.max_steps,
                         seed=o.seed, checkpoint_every=o.checkpoint_every, log=lambda line: click.echo(line, err=True))
    click.echo(f"trained {summary.steps} steps on {summary.examples} examples; adapter in {o.out_dir}")


@train.command("export")
@click.argument("adapter_dir", type=click.Path(exists=True, file_okay=False))
@click_options(ExportOptions)
def export_command(adapter_dir, **values):
    """Export a PEFT adapter as a GGUF LoRA adapter for llama.cpp (and optionally merge + quantize)."""
    o = options_from_cli(ExportOptions, values)
    base_path = base_model_path(o.base)
    export_lora_adapter(adapter_dir, base_path, o.out_path)
    click.echo(f"wrote {o.out_path}")
    if o.merge_to:
        merge_to_gguf(base_path, o.out_path, o.merge_to, None if o.quantize == "none" else o.quantize)
        click.echo(f"wrote {o.merge_to}")
