"""`radlite train ...` and `radlite models ...` commands."""

from __future__ import annotations

import json
import os

import click
from tqdm import tqdm

from radlite.errors import ExitCode
from radlite.routing import (
    EMBEDDED_SCHEME,
    RULES,
    Adapter,
    ModelEntry,
    RoutingTable,
    embedded_model_path,
    load_routing,
    write_routing,
)
from radlite.tasks import TASKS
from training.data.build import build_data, load_split, parse_source
from training.data.curation import CurationConfig
from training.data.sources.openi import read_test_ids
from training.eval.ledger import LEDGER, record_evaluation
from training.eval.predict import predict
from training.eval.records import Evaluation
from training.eval.report import summarize, trivial_comparisons, write_evaluation
from training.export import export_lora_adapter, merge_to_gguf
from training.gate import first_per_task, validate
from training.lora import load_preset, train_lora
from training.route import MIN_GROUNDED, build_routing


@click.group()
def train() -> None:
    """Build datasets, evaluate models and write routing tables (the training subsystem)."""


@train.command("build-data")
@click.option("--source", "sources", multiple=True, metavar="KIND=PATH",
              help="A dataset in its published format (repeatable). KIND: mimic-cxr, ct-rate, radgraph, radgraph-xl, "
                   "radgraph2, chexbert, radnli, merlin, multi-rads, medqa, radialog, llava-med, iu-xray, "
                   "negbio-gold (labels for iu-xray).")
@click.option("--synthetic", type=int, default=0, show_default=True,
              help="Also generate this many SYNTHETIC reports (all nine tasks, labelled synthetic).")
@click.option("--test-per-task", type=int, default=500, show_default=True)
@click.option("--validation-per-task", type=int, default=100, show_default=True)
@click.option("--test-ids", type=click.Path(exists=True, dir_okay=False),
              help="A fixed test list of real reports (NegBio's openi-testset.txt): their records are the test "
                   "split of their tasks and never reach training or validation.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def build_data_command(sources, synthetic, test_per_task, validation_per_task, test_ids, out_dir):
    """Convert sources to instruction records, curate (dedup, validity, caps, seed-42 splits, task weights)
    and write train/validation/test JSONL plus dataset_card.{md,json}."""
    try:
        parsed = [parse_source(s) for s in sources]
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    if not parsed and not synthetic:
        raise click.UsageError("name at least one --source or --synthetic N")
    card = build_data(parsed, out_dir, synthetic,
                      CurationConfig(test_per_task=test_per_task, validation_per_task=validation_per_task,
                                     test_reports=frozenset(read_test_ids(test_ids)) if test_ids else frozenset()))
    for name, split in card.splits.items():
        click.echo(f"{name:15s} {split.total:6d}  " + json.dumps(split.by_task))
    click.echo(f"dropped: {json.dumps(card.dropped)}; card: {out_dir}/dataset_card.md")


@train.command("eval")
@click.option("--routing", required=True, help="Routing table (built-in name or YAML) to evaluate.")
@click.option("--split", "split_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A JSONL split written by build-data (test.jsonl or validation.jsonl).")
@click.option("--baseline", help="A second routing table (e.g. the zero-shot base) to compare against.")
@click.option("--models-dir", type=click.Path(file_okay=False))
@click.option("--k-shot", type=int, default=0, show_default=True, help="Solved examples per prompt, from --shots.")
@click.option("--shots", "shots_path", type=click.Path(exists=True, dir_okay=False),
              help="Split to draw k-shot examples from.")
@click.option("--limit-per-task", type=int, help="Evaluate only the first N records of each task.")
@click.option("--trivial-from", type=click.Path(exists=True, dir_okay=False),
              help="Training split (train.jsonl): also score impression generation against the trivial "
                   "baselines (its most frequent impression; the last sentence of the findings).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def eval_command(routing, split_path, baseline, models_dir, k_shot, shots_path, limit_per_task, trivial_from,
                 out_dir):
    """Evaluate ROUTING on a split with the paper's metrics: eval.json, eval_report.md, PNG plots;
    with --baseline also McNemar / Wilcoxon per task between the two; with --trivial-from also
    impression generation against the trivial baselines (Wilcoxon)."""
    records = first_per_task(load_split(split_path), limit_per_task)
    shots = load_split(shots_path) if shots_path else []
    split = os.path.basename(split_path)

    def run(name: str) -> Evaluation:
        table = load_routing(name, models_dir)
        with tqdm(total=len(records), desc=table.name, disable=None) as bar:
            predictions = predict(records, table, k_shot=k_shot, shot_pool=shots, progress=bar.update)
        return summarize(predictions, table, split)

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


@train.command("route")
@click.argument("evaluations", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="routing.yaml to write.")
@click.option("--name", default="trained", show_default=True)
@click.option("--smoke-set", type=click.Path(exists=True, dir_okay=False),
              help="Small split copied beside the table for `radlite models validate`.")
@click.option("--min-grounded", type=click.FloatRange(0, 1), default=MIN_GROUNDED, show_default=True,
              help="Pass over a candidate whose values the report text states less often than this, "
                   "when another candidate for the task reaches it (0 turns this off).")
def route_command(evaluations, out_path, name, smoke_set, min_grounded):
    """Pick the best model per task from validation-split EVALUATIONS (eval.json files; ties go to the
    smaller model; candidates whose extracted values are mostly not in the report are passed over, see
    --min-grounded) and write the routing table with its manifest: sha256s, figures, minimum scores."""
    table = build_routing(list(evaluations), out_path, name, smoke_set, min_grounded)
    for task, key in table.tasks.items():
        figures = table.manifest.figures[task]
        minimum = table.manifest.min_scores[task]
        grounded = "" if figures.grounded_share is None else f", grounded {figures.grounded_share:.2f}"
        click.echo(f"{task:24s} -> {key}  {figures.metric} {figures.score:.3f}{grounded} (min {minimum:.3f})")
    click.echo(f"wrote {out_path}")


@train.command("model-table")
@click.argument("tasks", nargs=-1, required=True)
@click.option("--name", required=True, help="Name of the routing table (and prefix of its model key).")
@click.option("--base", default=EMBEDDED_SCHEME + "smollm2", show_default=True, help="Base GGUF path.")
@click.option("--adapter", "adapters", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="GGUF LoRA adapter applied on the base (repeatable).")
@click.option("--threads", type=int, help="llama.cpp threads (default: all cores).")
@click.option("--merge", type=click.Choice(["Q8_0"]),
              help="Merge the adapters into the base's weights, written once as this type and cached, "
                   "instead of applying them at run time (faster on a CPU; see README, Performance).")
@click.option("--rules", "rules_mode", type=click.Choice(["only", "first"]),
              help="'only': the rule extractors answer; 'first': a cascade, rules then the model.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="routing YAML to write.")
def model_table_command(tasks, name, base, adapters, threads, merge, rules_mode, out_path):
    """Write a routing table that sends TASKS to one model (base + adapters), to the rules, or to the
    rules then the model (a cascade), e.g. to evaluate it as a routing candidate."""
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise click.BadParameter(f"unknown task(s) {', '.join(unknown)}", param_hint="TASKS")
    if merge and not adapters:
        raise click.BadParameter("--merge needs at least one --adapter", param_hint="--merge")
    model = ModelEntry(path=base, adapters=tuple(Adapter(path=os.path.abspath(a)) for a in adapters), threads=threads,
                       merge=merge)
    models = {"rules": ModelEntry(kind=RULES)} if rules_mode else {}
    if rules_mode != "only":
        models[name] = model
    route = list(models) if len(models) > 1 else next(iter(models))
    write_routing(RoutingTable(name=name, models=models, tasks=dict.fromkeys(tasks, route)), out_path)
    click.echo(f"wrote {out_path}")


@click.group()
def models() -> None:
    """Check the model files a routing table points at."""


@models.command("validate")
@click.argument("routing", default="embedded")
@click.option("--models-dir", type=click.Path(file_okay=False))
@click.option("--smoke-limit", type=int, help="Smoke-evaluate only the first N records of each task.")
def validate_command(routing, models_dir, smoke_limit):
    """Check every file's sha256 and GGUF metadata and run the manifest's smoke evaluation;
    exit 1 on any mismatch or any task below its minimum score. ROUTING defaults to the embedded route."""
    result = validate(routing, models_dir, smoke_limit)
    for task, score in result.scores.items():
        click.echo(f"{task:24s} smoke score {score:.3f}")
    if not result.ok:
        for problem in result.problems:
            click.echo(f"FAIL: {problem}", err=True)
        raise SystemExit(ExitCode.FAILED)
    click.echo(f"{routing}: OK")


@train.command("lora")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Training records (train_weighted.jsonl from build-data).")
@click.option("--base", default="embedded", show_default=True,
              help="Base model: a Hugging Face directory, a .gguf file, or 'embedded' (SmolLM2-135M GGUF).")
@click.option("--preset", default="cpu-demo", show_default=True, help="paper, cpu-demo, or a preset YAML file.")
@click.option("--max-examples", type=int, help="Use only the first N records.")
@click.option("--max-steps", type=int, help="Train exactly N optimizer steps (cycling the data if needed).")
@click.option("--checkpoint-every", type=int, default=50, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
def lora_command(data_path, base, preset, max_examples, max_steps, checkpoint_every, seed, out_dir):
    """LoRA-tune BASE on DATA with a preset (loss on answer tokens only; resumes from OUT/checkpoint.pt)."""
    records = load_split(data_path)[:max_examples]
    base_path = embedded_model_path() if base == "embedded" else base
    summary = train_lora(records, base_path, load_preset(preset), out_dir, max_steps=max_steps, seed=seed,
                         checkpoint_every=checkpoint_every, log=lambda line: click.echo(line, err=True))
    click.echo(f"trained {summary.steps} steps on {summary.examples} examples; adapter in {out_dir}")


@train.command("export")
@click.argument("adapter_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--base", default="embedded", show_default=True, help="The base GGUF the adapter was trained on.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="GGUF adapter to write.")
@click.option("--merge-to", type=click.Path(dir_okay=False), help="Also write a merged single-file GGUF here.")
@click.option("--quantize", default="Q4_K_M", show_default=True, help="Quantization of the merged file (or 'none').")
def export_command(adapter_dir, base, out_path, merge_to, quantize):
    """Export a PEFT adapter as a GGUF LoRA adapter for llama.cpp (and optionally merge + quantize)."""
    base_path = embedded_model_path() if base == "embedded" else base
    export_lora_adapter(adapter_dir, base_path, out_path)
    click.echo(f"wrote {out_path}")
    if merge_to:
        merge_to_gguf(base_path, out_path, merge_to, None if quantize == "none" else quantize)
        click.echo(f"wrote {merge_to}")
