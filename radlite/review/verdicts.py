"""Verdict files exported by the review page: read, check against the sample and OUT, commit as a table.

An import is all or nothing: every check runs before anything is written, and the verdicts are committed
through OutputStore's protocol (staged, moved, one atomic manifest) with a ``runs`` row of their own, so
readers see all of a file's verdicts or none.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import time
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from radlite import __version__
from radlite.hashing import stable_id
from radlite.review.sample import (
    SampleItem,
    SampleManifest,
    candidates,
    load_manifest,
    out_identity,
    stored_manifest_path,
)
from radlite.store import OutputStore
from radlite.tables import arrow_schema

VERDICTS = ("correct", "incorrect", "cant_tell")
TABLE = "review_verdicts"
_FORMULA_GUARD = ("'=", "'+", "'-", "'@", "'\t", "'\r")


class VerdictsRefused(ValueError):
    """The verdict file cannot be imported; the message says why in one line. Nothing was imported."""


class VerdictLine(BaseModel):
    """One verdict as exported by the page; ``line`` is where it is in the file (for messages)."""

    line: int
    sample_id: str
    out_id: str | None = None
    item_id: str
    verdict: str
    corrected_value: str | None = None
    reviewed_at: datetime | None = None


def _unguard(value: str | None) -> str | None:
    """Undo the page's spreadsheet-formula guard (a leading quote) and map empty to None."""
    if not value:
        return None
    return value[1:] if value.startswith(_FORMULA_GUARD) else value


def read_verdict_file(path: str) -> list[VerdictLine]:
    """The verdicts of a .csv or .json file exported by the review page."""
    name = os.path.basename(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            if path.endswith(".json"):
                data = json.load(fh)
                entries = data["verdicts"] if isinstance(data, dict) else data
                raw = [(n, dict(e)) for n, e in enumerate(entries, start=1)]
            else:
                reader = csv.DictReader(fh)
                missing = {"sample_id", "item_id", "verdict"} - set(reader.fieldnames or [])
                if missing:
                    raise VerdictsRefused(f"{name}: no column {', '.join(sorted(missing))}; "
                                          "use the file the review page's Export wrote")
                raw = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, csv.Error) as exc:
        if isinstance(exc, VerdictsRefused):
            raise
        raise VerdictsRefused(f"{name}: unreadable verdict file ({str(exc).splitlines()[0]})") from None
    lines = []
    for n, row in raw:
        verdict = (row.get("verdict") or "").strip()
        if verdict not in VERDICTS:
            raise VerdictsRefused(f"{name} line {n}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        try:
            lines.append(VerdictLine(line=n, sample_id=row.get("sample_id") or "", out_id=row.get("out_id") or None,
                                     item_id=row.get("item_id") or "", verdict=verdict,
                                     corrected_value=_unguard(row.get("corrected_value")),
                                     reviewed_at=row.get("reviewed_at") or None))
        except ValidationError as exc:
            raise VerdictsRefused(f"{name} line {n}: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None
    if not lines:
        raise VerdictsRefused(f"{name}: no verdicts in the file")
    return lines


def find_manifest(store: OutputStore, lines: list[VerdictLine], name: str, path: str | None) -> SampleManifest:
    """The sample the verdicts belong to: ``path`` when given, else the one OUT stored when it was drawn."""
    samples = sorted({line.sample_id for line in lines})
    if len(samples) > 1:
        raise VerdictsRefused(f"{name} mixes samples {', '.join(samples)}; import one sample's export at a time")
    out_id, _ = out_identity(store)
    others = sorted({line.out_id for line in lines if line.out_id and line.out_id != out_id})
    if others:
        raise VerdictsRefused(f"{name} holds verdicts on another OUT (first run {others[0]}), not {store.root} "
                              f"(first run {out_id}); nothing imported")
    path = path or stored_manifest_path(store, samples[0])
    if not os.path.exists(path):
        raise VerdictsRefused(f"{name}: sample {samples[0]} was not drawn from {store.root} (no {path}); "
                              "import it into the OUT it was drawn from")
    manifest = load_manifest(path)
    if manifest.sample_id != samples[0]:
        raise VerdictsRefused(f"{name} is for sample {samples[0]}, {path} is sample {manifest.sample_id}")
    if manifest.out_id != out_id:
        raise VerdictsRefused(f"{name}: sample {manifest.sample_id} was drawn from another OUT ({manifest.out}), "
                              f"not {store.root}; nothing imported")
    return manifest


def check_lines(lines: list[VerdictLine], manifest: SampleManifest, name: str) -> dict[str, SampleItem]:
    """Every id must be in the sample, once. Returns the sampled item of each verdict, by item id."""
    items = {item.item_id: item for item in manifest.items}
    unknown = [line for line in lines if line.item_id not in items]
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise VerdictsRefused(f"{name} line {unknown[0].line}: item id {unknown[0].item_id!r} is not in sample "
                              f"{manifest.sample_id}{more}; nothing imported")
    seen: dict[str, int] = {}
    for line in lines:
        if line.item_id in seen:
            raise VerdictsRefused(f"{name} line {line.line}: item {line.item_id} is marked twice (first on line "
                                  f"{seen[line.item_id]}); nothing imported")
        seen[line.item_id] = line.line
    return {line.item_id: items[line.item_id] for line in lines}


def check_current(store: OutputStore, manifest: SampleManifest, sampled: dict[str, SampleItem], name: str) -> None:
    """The reviewed values must still be OUT's current ones: a sample from an older run is refused."""
    tables = sorted({item.table for item in sampled.values()})
    now = {item.item_id: item for item in candidates(store, tables)}
    changed = [item for item in sampled.values()
               if item.item_id not in now or (now[item.item_id].value, now[item.item_id].model_id)
               != (item.value, item.model_id)]
    if changed:
        first = changed[0]
        after = now.get(first.item_id)
        was = f"{first.table}/{first.label} {first.value!r} by {first.model_id}"
        is_ = f"{after.value!r} by {after.model_id}" if after else "gone"
        raise VerdictsRefused(f"{name}: sample {manifest.sample_id} was drawn at run {manifest.last_run}; "
                              f"{len(changed)} of its reviewed values changed since (e.g. {was} -> {is_}); "
                              "draw a new sample; nothing imported")


def verdict_rows(lines: list[VerdictLine], sampled: dict[str, SampleItem], manifest: SampleManifest,
                 reviewer: str, run_id: str) -> list[dict]:
    """Rows of the review_verdicts table."""
    rows = []
    for line in lines:
        item = sampled[line.item_id]
        rows.append({"verdict_id": stable_id(item.item_id, reviewer), "sample_id": manifest.sample_id,
                     "item_id": item.item_id, "reviewer": reviewer, "table_name": item.table,
                     "report_id": item.report_id, "task": item.task, "label": item.label, "status": item.status,
                     "value": item.value, "model_id": item.model_id, "verdict": line.verdict,
                     "corrected_value": line.corrected_value, "reviewed_at": line.reviewed_at, "run_id": run_id})
    return rows


def check_not_imported(store: OutputStore, rows: list[dict], reviewer: str, name: str, replace: bool) -> None:
    """A reviewer's verdict on an item is imported once, unless ``replace`` supersedes it."""
    if replace:
        return
    existing = {r["verdict_id"]: r["run_id"] for r in store.read_table(TABLE, ["verdict_id", "run_id"]).to_pylist()}
    again = [r for r in rows if r["verdict_id"] in existing]
    if again:
        raise VerdictsRefused(f"{name}: reviewer {reviewer!r} already has verdicts on {len(again)} of these items "
                              f"(imported by run {existing[again[0]['verdict_id']]}); pass --replace to supersede "
                              "them; nothing imported")


class ImportResult(BaseModel):
    run_id: str
    sample_id: str
    reviewer: str
    verdicts: int


def import_verdicts(store: OutputStore, path: str, reviewer: str, manifest_path: str | None = None,
                    replace: bool = False) -> ImportResult:
    """Check a verdict file and commit it as rows of review_verdicts; raises VerdictsRefused (nothing written)."""
    reviewer = reviewer.strip()
    if not reviewer:
        raise VerdictsRefused("--reviewer must name someone")
    name = os.path.basename(path)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    run_id = started.strftime("%Y%m%dT%H%M%S.%fZ") + "-review-" + secrets.token_hex(3)
    lines = read_verdict_file(path)
    with store.locked():
        store.recover()
        manifest = find_manifest(store, lines, name, manifest_path)
        sampled = check_lines(lines, manifest, name)
        check_current(store, manifest, sampled, name)
        rows = verdict_rows(lines, sampled, manifest, reviewer, run_id)
        check_not_imported(store, rows, reviewer, name, replace)
        staged = _stage(store, run_id, rows, path, started, t0, reviewer, manifest.sample_id, replace)
        store.commit(run_id, staged)
    return ImportResult(run_id=run_id, sample_id=manifest.sample_id, reviewer=reviewer, verdicts=len(rows))


def _stage(store: OutputStore, run_id: str, rows: list[dict], path: str, started: datetime, t0: float,
           reviewer: str, sample_id: str, replace: bool) -> dict[str, list[str]]:
    """Write the verdicts and the import's runs row into the staging folder."""
    staging = store.staging_dir(run_id)
    files = {}
    wall = round(time.perf_counter() - t0, 3)
    run = {"run_id": run_id, "started_at": started, "finished_at": datetime.now(UTC), "status": "committed",
           "inputs": [os.path.abspath(path)], "tasks": [], "routing": None, "read": len(rows),
           "accepted": len(rows), "accepted_new": len(rows), "skipped_unchanged": 0, "rejected": 0,
           "rejected_by_reason": "{}", "rows_by_table": json.dumps({TABLE: len(rows), "runs": 1}),
           "wall_seconds": wall, "reports_per_second": len(rows) / wall if wall else 0.0,
           "radlite_version": __version__,
           "options": json.dumps({"command": "review import", "reviewer": reviewer, "sample_id": sample_id,
                                  "replace": replace})}
    for table, table_rows in ((TABLE, rows), ("runs", [run])):
        os.makedirs(os.path.join(staging, table), exist_ok=True)
        target = os.path.join(staging, table, "part.parquet")
        pq.write_table(pa.Table.from_pylist(table_rows, schema=arrow_schema(table)), target)
        files[table] = [target]
    return files
