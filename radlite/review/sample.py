"""Draw a sample of committed values for review, and the manifest that records what was drawn.

The sample is stratified on any of ``table``, ``label``, ``status``, ``model_id``: the requested size is
shared out equally between the strata (a stratum smaller than its share gives its rest to the others), so
rare labels, ``negative``/``not_mentioned`` rows and the rows of every model that made values are reviewed
too: misses can be estimated, and no model's rows go unreviewed for want of a draw. Within a stratum the
draw is random with the given seed, so the same OUT, seed and options draw the same sample.

Withheld values (radlite.withholding) are drawn first: they form their own strata (``withheld`` true in
the manifest, and on each item), sampled before any published value, so a reviewer sees first what the
run would not publish. The figures (radlite.review.figures) are of published values only.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from radlite.hashing import stable_id
from radlite.review.views import VIEWS, ReviewView, item_id
from radlite.store import OutputStore

STRATA_DIMENSIONS = ("table", "label", "status", "model_id")
#: The default: every dimension (the gate needs a current verdict on each model's rows).
DEFAULT_STRATIFY = STRATA_DIMENSIONS
#: Where OUT keeps the manifests of the samples drawn from it (import looks a sample up here).
SAMPLES_DIR = os.path.join("review", "samples")


class SampleRefused(ValueError):
    """The sample cannot be drawn: the message says why in one line."""


class SampleItem(BaseModel):
    """One sampled value as the reviewer sees it."""

    item_id: str
    table: str
    report_id: str
    task: str
    label: str
    status: str
    value: str
    model_id: str
    grounded: bool | None = None
    #: The row's ``supported`` column, where the table has one.
    supported: bool | None = None
    evidence_start: int | None = None
    evidence_end: int | None = None
    #: The row is withheld, not published (its table's ``withheld`` column), and why.
    withheld: bool = False
    withheld_reason: str | None = None


class Stratum(BaseModel):
    """Committed valid rows of one (table, label, status, model_id) when the sample was drawn, and how many
    were drawn."""

    table: str
    label: str
    status: str
    #: None in a manifest drawn before strata named the model.
    model_id: str | None = None
    #: A stratum of withheld values (drawn before every published one).
    withheld: bool = False
    rows: int
    sampled: int


class SampleManifest(BaseModel):
    """What was sampled from which OUT: import checks a verdict file against it."""

    sample_id: str
    out: str = Field(description="OUT's absolute path when the sample was drawn.")
    out_id: str = Field(description="OUT's identity: its first committed run.")
    last_run: str = Field(description="OUT's latest committed run when the sample was drawn.")
    created_at: datetime
    seed: int
    size: int = Field(description="Requested sample size.")
    stratify: list[str]
    tables: list[str]
    strata: list[Stratum]
    items: list[SampleItem]


def out_identity(store: OutputStore) -> tuple[str, str]:
    """(first, latest) committed run of OUT: the first tells one OUT from another."""
    runs = store.manifest().runs
    if not runs:
        raise SampleRefused(f"{store.root} has no committed run")
    return runs[0], runs[-1]


def candidates(store: OutputStore, tables: list[str]) -> list[SampleItem]:
    """Every valid current row of ``tables``, withheld ones included, as a reviewable item (one per item id)."""
    items: dict[str, SampleItem] = {}
    for table in tables:
        view = VIEWS[table]
        for row in store.read_table(table, include_withheld=True).to_pylist():
            if row["valid"]:
                item = to_item(view, row)
                items.setdefault(item.item_id, item)
    return list(items.values())


def to_item(view: ReviewView, row: dict) -> SampleItem:
    return SampleItem(item_id=item_id(view, row), table=view.table, report_id=row["report_id"], task=row["task"],
                      label=view.label(row), status=view.status(row), value=view.value(row),
                      model_id=row["model_id"], grounded=row.get("grounded"), supported=row.get("supported"),
                      evidence_start=row.get("evidence_start"), evidence_end=row.get("evidence_end"),
                      withheld=bool(row.get("withheld")), withheld_reason=row.get("withheld_reason"))


def stratum_of(item: SampleItem, dimensions: list[str]) -> tuple[str, ...]:
    return tuple(getattr(item, d) for d in dimensions)


def allocate(sizes: dict[tuple, int], n: int) -> dict[tuple, int]:
    """Share ``n`` out equally between strata of the given sizes; what a small stratum cannot take goes to
    the others. Strata in key order take the remainder of an uneven share first."""
    taken = dict.fromkeys(sizes, 0)
    left = min(n, sum(sizes.values()))
    while left > 0:
        open_ = sorted(k for k in sizes if taken[k] < sizes[k])
        share, extra = divmod(left, len(open_))
        for i, key in enumerate(open_):
            take = min(share + (1 if i < extra else 0), sizes[key] - taken[key])
            taken[key] += take
            left -= take
    return taken


def draw(items: list[SampleItem], n: int, stratify: list[str], seed: int) -> list[SampleItem]:
    """A stratified random sample of ``n`` items (all of them when there are fewer): the withheld items
    first, then the published ones in what is left of ``n``."""
    withheld = _draw_strata([i for i in items if i.withheld], n, stratify, f"withheld:{seed}")
    return withheld + _draw_strata([i for i in items if not i.withheld], n - len(withheld), stratify, str(seed))


def _draw_strata(items: list[SampleItem], n: int, stratify: list[str], seed: str) -> list[SampleItem]:
    """``n`` items of ``items`` shared out between their strata, each drawn at random with ``seed``."""
    if n <= 0 or not items:
        return []
    groups: dict[tuple, list[SampleItem]] = defaultdict(list)
    for item in sorted(items, key=lambda i: i.item_id):
        groups[stratum_of(item, stratify)].append(item)
    counts = allocate({k: len(v) for k, v in groups.items()}, n)
    drawn: list[SampleItem] = []
    for key in sorted(groups):
        rng = random.Random(f"{seed}:{json.dumps(key)}")
        drawn.extend(rng.sample(groups[key], counts[key]))
    return drawn


def build_manifest(store: OutputStore, n: int, tables: list[str] | None, stratify: list[str],
                   seed: int) -> SampleManifest:
    """Draw the sample from OUT's current committed values."""
    if n < 1:
        raise SampleRefused("--sample must be at least 1")
    unknown = [d for d in stratify if d not in STRATA_DIMENSIONS]
    if unknown:
        raise SampleRefused(f"--stratify: unknown {', '.join(unknown)} (choose from {', '.join(STRATA_DIMENSIONS)})")
    first, last = out_identity(store)
    tables = tables or [t for t in VIEWS if store.manifest().files[t]]
    pool = candidates(store, tables)
    if not pool:
        raise SampleRefused(f"{store.root}: no valid committed values in {', '.join(tables) or 'any table'}")
    drawn = draw(pool, n, stratify, seed)
    population = Counter((i.withheld, *stratum_of(i, list(STRATA_DIMENSIONS))) for i in pool)
    sampled = Counter((i.withheld, *stratum_of(i, list(STRATA_DIMENSIONS))) for i in drawn)
    strata = [Stratum(table=t, label=lab, status=s, model_id=m, withheld=w, rows=rows,
                      sampled=sampled[(w, t, lab, s, m)])
              for (w, t, lab, s, m), rows in sorted(population.items(), key=lambda kv: (not kv[0][0], kv[0][1:]))]
    sample_id = stable_id(first, last, str(seed), ",".join(stratify), *sorted(i.item_id for i in drawn))
    return SampleManifest(sample_id=sample_id, out=store.root, out_id=first, last_run=last,
                          created_at=datetime.now(UTC), seed=seed, size=n, stratify=stratify, tables=tables,
                          strata=strata, items=drawn)


def save_manifest(manifest: SampleManifest, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(manifest.model_dump_json(indent=1))


def load_manifest(path: str) -> SampleManifest:
    with open(path) as fh:
        return SampleManifest.model_validate_json(fh.read())


def stored_manifest_path(store: OutputStore, sample_id: str) -> str:
    """Where OUT keeps the manifest of one of its samples."""
    return os.path.join(store.root, SAMPLES_DIR, f"{sample_id}.json")


def report_texts(store: OutputStore, report_ids: set[str]) -> dict[str, str]:
    """Current text of the given reports."""
    reports = store.read_table("reports", ["report_id", "text"]).to_pylist()
    return {r["report_id"]: r["text"] for r in reports if r["report_id"] in report_ids}
