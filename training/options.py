"""The training and model commands' options, declared once (radlite_cli.options turns them into click flags).

Each class is one command's options: type, default, bounds and a one-line doc per field, as
``radlite run``'s options are declared in pipelines/options.py. ``json_schema_extra`` carries what
click needs beyond the type: ``path`` (click.Path settings), a ``flag`` spelling, a ``metavar``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from radlite.routing import EMBEDDED_SCHEME, embedded_model_path
from training.route import MIN_GROUNDED

#: The base model shipped with the package (SmolLM2-135M-Instruct GGUF), as routing tables spell it.
EMBEDDED_BASE = EMBEDDED_SCHEME + "smollm2"
_FILE = {"path": {"exists": True, "dir_okay": False}}
_NEW_FILE = {"path": {"dir_okay": False}}
_FOLDER = {"path": {"file_okay": False}}


def base_model_path(base: str) -> str:
    """The file or folder a ``--base`` names: the embedded GGUF for ``embedded:smollm2`` (or the
    short ``embedded``), else the path as given."""
    return embedded_model_path() if base in (EMBEDDED_BASE, "embedded") else base


class BuildDataOptions(BaseModel):
    sources: tuple[str, ...] = Field((), description=(
        "A dataset in its published format (repeatable). KIND: mimic-cxr, ct-rate, radgraph, radgraph-xl, "
        "radgraph2, chexbert, radnli, merlin, multi-rads, medqa, radialog, llava-med, iu-xray, negbio-gold "
        "(labels for iu-xray)."), json_schema_extra={"flag": "--source", "metavar": "KIND=PATH"})
    synthetic: int = Field(0, ge=0, description="Also generate this many SYNTHETIC reports (all nine tasks, "
                                                "labelled synthetic).")
    test_per_task: int = Field(500, ge=0, description="Test records per task.")
    validation_per_task: int = Field(100, ge=0, description="Validation records per task.")
    test_ids: str | None = Field(None, description=(
        "A fixed test list of real reports (NegBio's openi-testset.txt): their records are the test split of "
        "their tasks and never reach training or validation."), json_schema_extra=_FILE)
    out_dir: str = Field(description="Folder for the splits and the dataset card.",
                         json_schema_extra={"flag": "--out", **_FOLDER})


class EvalOptions(BaseModel):
    routing: str = Field(description="Routing table (built-in name or YAML) to evaluate.")
    split_path: str = Field(description="A JSONL split written by build-data (test.jsonl or validation.jsonl).",
                            json_schema_extra={"flag": "--split", **_FILE})
    baseline: str | None = Field(None, description="A second routing table (e.g. the zero-shot base) to compare "
                                                   "against.")
    models_dir: str | None = Field(None, description="Folder the routing tables' model files are named in.",
                                   json_schema_extra=_FOLDER)
    k_shot: int = Field(0, ge=0, description="Solved examples per prompt, from --shots.")
    shots_path: str | None = Field(None, description="Split to draw k-shot examples from.",
                                   json_schema_extra={"flag": "--shots", **_FILE})
    limit_per_task: int | None = Field(None, ge=1, description="Evaluate only the first N records of each task.")
    trivial_from: str | None = Field(None, description=(
        "Training split (train.jsonl): also score impression generation against the trivial baselines (its "
        "most frequent impression; the last sentence of the findings)."), json_schema_extra=_FILE)
    out_dir: str = Field(description="Folder for eval.json, eval_report.md and the plots.",
                         json_schema_extra={"flag": "--out", **_FOLDER})


class RouteOptions(BaseModel):
    out_path: str = Field(description="routing.yaml to write.", json_schema_extra={"flag": "--out", **_NEW_FILE})
    name: str = Field("trained", description="Name of the routing table.")
    smoke_set: str | None = Field(None, description="Small split copied beside the table for `radlite models "
                                                    "validate`.", json_schema_extra=_FILE)
    min_grounded: float = Field(MIN_GROUNDED, ge=0, le=1, description=(
        "Pass over a candidate whose values the report text states less often than this, when another "
        "candidate for the task reaches it (0 turns this off)."))
    baseline: str | None = Field(None, description=(
        "eval.json of a baseline (e.g. embedded-base) on the smoke set: each task's minimum smoke score is the "
        "baseline's score (default: the routed figure less the policy margin, 0.10)."), json_schema_extra=_FILE)
    min_scores_from: str | None = Field(None, description=(
        "Routing table (built-in name or YAML) whose baseline-derived minimums to keep: a baseline's smoke "
        "scores do not depend on the route, so re-routing need not re-run it (tasks it lacks: as without)."))


class CalibrateOptions(BaseModel):
    data_dir: str = Field(description="Folder holding iu-xray/indiana_reports.csv and negbio/ (NegBio's labels and "
                                      "test list; the test list's reports are never used).",
                          json_schema_extra={"flag": "--data", **_FOLDER})
    routing: str = Field("embedded", description="Routing table whose answers are calibrated (name or YAML path).")
    out_path: str = Field(description="Calibration JSON to write (radlite.calibration).",
                          json_schema_extra={"flag": "--out", **_NEW_FILE})
    tables: tuple[str, ...] = Field(("entities", "abnormalities", "temporal_changes", "nli", "qa_answers", "rads",
                                     "staging"), description="Task tables to fit (repeatable).",
                                    json_schema_extra={"flag": "--table"})
    abnormality_reports: int = Field(400, ge=10, description="IU X-ray validation reports (drawn with a fixed seed) "
                                                            "whose NegBio labels calibrate abnormalities.")
    limit: int | None = Field(None, ge=1, description="Fit each table on its first N gold items only (reports; "
                                                      "QA: reports; NLI: pairs).")
    docs_dir: str | None = Field(None, description="Folder for calibration.png (reliability diagrams) and "
                                                   "calibration-figures.md (ECE per table with its n).",
                                 json_schema_extra={"flag": "--docs", **_FOLDER})
    update_routing: str | None = Field(None, description=(
        "Routing YAML whose manifest gets the calibration file and each table's min_confidence."),
        json_schema_extra=_FILE)


class ModelTableOptions(BaseModel):
    name: str = Field(description="Name of the routing table (and prefix of its model key).")
    base: str = Field(EMBEDDED_BASE, description="Base GGUF path.")
    adapters: tuple[str, ...] = Field((), description="GGUF LoRA adapter applied on the base (repeatable).",
                                      json_schema_extra={"flag": "--adapter", **_FILE})
    threads: int | None = Field(None, ge=1, description="llama.cpp threads (default: all cores).")
    merge: Literal["Q8_0"] | None = Field(None, description=(
        "Merge the adapters into the base's weights, written once as this type and cached, instead of applying "
        "them at run time (faster on a CPU; see README, Performance)."))
    rules_mode: Literal["only", "first"] | None = Field(None, description=(
        "'only': the rule extractors answer; 'first': a cascade, rules then the model."),
        json_schema_extra={"flag": "--rules"})
    out_path: str = Field(description="routing YAML to write.", json_schema_extra={"flag": "--out", **_NEW_FILE})


class ValidateOptions(BaseModel):
    models_dir: str | None = Field(None, description="Folder the routing table's model files are named in.",
                                   json_schema_extra=_FOLDER)
    smoke_limit: int | None = Field(None, ge=1, description="Smoke-evaluate only the first N records of each task.")


class LoraOptions(BaseModel):
    data_path: str = Field(description="Training records (train_weighted.jsonl from build-data).",
                           json_schema_extra={"flag": "--data", **_FILE})
    base: str = Field(EMBEDDED_BASE, description=(
        "Base model: a Hugging Face directory, a .gguf file, or embedded:smollm2 (SmolLM2-135M GGUF)."))
    preset: str = Field("cpu-demo", description="paper, cpu-demo, or a preset YAML file.")
    max_examples: int | None = Field(None, ge=1, description="Use only the first N records.")
    max_steps: int | None = Field(None, ge=1, description="Train exactly N optimizer steps (cycling the data if "
                                                          "needed).")
    checkpoint_every: int = Field(50, ge=1, description="Optimizer steps between checkpoints (OUT/checkpoint.pt).")
    seed: int = Field(42, description="Seed of data order and initialisation.")
    out_dir: str = Field(description="Folder for the adapter and its checkpoint.",
                         json_schema_extra={"flag": "--out", **_FOLDER})


class ExportOptions(BaseModel):
    base: str = Field(EMBEDDED_BASE, description="The base GGUF the adapter was trained on.")
    out_path: str = Field(description="GGUF adapter to write.", json_schema_extra={"flag": "--out", **_NEW_FILE})
    merge_to: str | None = Field(None, description="Also write a merged single-file GGUF here.",
                                 json_schema_extra=_NEW_FILE)
    quantize: str = Field("Q4_K_M", description="Quantization of the merged file (or 'none').")
