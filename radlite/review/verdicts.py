"""Verdict files exported by the review page: read, check against the sample and OUT, commit as a table.

An import is all or nothing: every check runs before anything is written, and the verdicts are committed
through OutputStore's protocol (staged, moved, one atomic manifest) with a ``runs`` row of their own, so
readers see all of a file's verdicts or none.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from datetime import UTC, datetime
from typing import NamedTuple

from dateutil import parser as dateparser
from pydantic import BaseModel, ValidationError

from radlite.hashing import stable_id
from radlite.review.figures import Dispute, settle
from radlite.review.sample import (
    SampleItem,
    SampleManifest,
    candidates,
    load_manifest,
    out_identity,
    stored_manifest_path,
)
from radlite.store import OutputStore, StoreRun

VERDICTS = ("correct", "incorrect", "cant_tell")
#: An adjudicated verdict's id hashes the item with ("", this) instead of a reviewer's name: one per item,
#: and never the id of a reviewer's own verdict.
ADJUDICATION = "adjudication"
#: Columns a verdict file must have (the page's export has these and out_id, corrected_value, reviewed_at).
REQUIRED_COLUMNS = ("sample_id", "item_id", "verdict")
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
    #: The name the reviewer typed in the page (None in files from pages made before it asked).
    reviewer: str | None = None


def _unguard(value: str | None) -> str | None:
    """Undo the page's spreadsheet-formula guard (a leading quote) and map empty to None."""
    if not value:
        return None
    return value[1:] if value.startswith(_FORMULA_GUARD) else value


def reviewed_at(value: object) -> datetime | None:
    """When the reviewer marked the item: the page writes ISO 8601 in UTC; a spreadsheet may have rewritten it
    in its locale's day-first form (dd/mm/yyyy, dd.mm.yyyy, with or without a time). A time without a zone
    is taken as UTC, the zone the page wrote. Raises ValueError when it is no date."""
    value = "" if value is None else str(value).strip()
    if not value:
        return None
    try:
        found = dateparser.isoparse(value)
    except ValueError:
        found = dateparser.parse(value, dayfirst=True)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _delimiter(header: str) -> str:
    """The separator that splits the header into the required columns: ',' (the page), ';' (a spreadsheet
    in a locale whose decimal separator is a comma) or a tab."""
    for delimiter in (",", ";", "\t"):
        columns = next(csv.reader([header], delimiter=delimiter), [])
        if set(REQUIRED_COLUMNS) <= {c.strip() for c in columns}:
            return delimiter
    return ","


def csv_rows(text: str, name: str) -> list[tuple[int, dict]]:
    """(line number, row) of a CSV export: as the page wrote it, or as a spreadsheet saved it again (BOM
    already stripped; ',' or ';' separators; CRLF). A file cut short is refused naming the line: a row with
    fewer cells than the header, a quoted cell that never closes, or a last row with no line break whose
    last cell is empty. Rows of empty cells are skipped."""
    delimiter = _delimiter(text.splitlines()[0] if text else "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, header, line = [], None, 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise VerdictsRefused(f"{name} line {line}: {exc} (a quoted cell that never closes: is the file cut "
                                  "short?); nothing imported") from None
        if header is None:
            header = [c.strip() for c in cells]
            missing = set(REQUIRED_COLUMNS) - set(header)
            if missing:
                raise VerdictsRefused(f"{name}: no column {', '.join(sorted(missing))}; "
                                      "use the file the review page's Export wrote")
        elif any(c.strip() for c in cells):
            if len(cells) < len(header):
                raise VerdictsRefused(f"{name} line {line}: {len(cells)} of {len(header)} columns (ends after "
                                      f"{header[len(cells) - 1]}): the file is cut short; nothing imported")
            if any(c.strip() for c in cells[len(header):]):
                raise VerdictsRefused(f"{name} line {line}: {len(cells)} cells under {len(header)} columns; "
                                      "nothing imported")
            rows.append((line, dict(zip(header, cells))))
        line = reader.line_num + 1
    if rows and not text.endswith(("\n", "\r")) and not rows[-1][1][header[-1]].strip():
        raise VerdictsRefused(f"{name} line {rows[-1][0]}: the file ends inside this row (no line break, "
                              f"{header[-1]} empty): the file is cut short; nothing imported")
    return rows


def read_verdict_file(path: str) -> list[VerdictLine]:
    """The verdicts of a .csv or .json file exported by the review page (or re-saved by a spreadsheet)."""
    name = os.path.basename(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            if path.endswith(".json"):
                data = json.load(fh)
                entries = data["verdicts"] if isinstance(data, dict) else data
                raw = [(n, dict(e)) for n, e in enumerate(entries, start=1)]
            else:
                raw = csv_rows(fh.read(), name)
    except UnicodeDecodeError as exc:
        raise VerdictsRefused(f"{name}: not UTF-8 (byte {exc.start}); a spreadsheet must save it as "
                              "'CSV UTF-8'; nothing imported") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, VerdictsRefused):
            raise
        raise VerdictsRefused(f"{name}: unreadable verdict file ({str(exc).splitlines()[0]})") from None
    lines = [verdict_line(n, row, name) for n, row in raw]
    if not lines:
        raise VerdictsRefused(f"{name}: no verdicts in the file")
    return lines


def _text(row: dict, column: str) -> str:
    """A cell as text, without the blanks a spreadsheet may leave around it."""
    value = row.get(column)
    return "" if value is None else str(value).strip()


def verdict_line(n: int, row: dict, name: str) -> VerdictLine:
    """One row of a verdict file, checked; VerdictsRefused names the line."""
    verdict = _text(row, "verdict")
    if verdict not in VERDICTS:
        raise VerdictsRefused(f"{name} line {n}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    try:
        when = reviewed_at(row.get("reviewed_at"))
    except (ValueError, OverflowError):
        raise VerdictsRefused(f"{name} line {n}: reviewed_at {row.get('reviewed_at')!r} is not a date (ISO 8601, "
                              "dd/mm/yyyy or dd.mm.yyyy, with an optional time)") from None
    try:
        return VerdictLine(line=n, sample_id=_text(row, "sample_id"), out_id=_text(row, "out_id") or None,
                           item_id=_text(row, "item_id"),
                           verdict=verdict, corrected_value=_unguard(row.get("corrected_value")), reviewed_at=when,
                           reviewer=_text(row, "reviewer") or None)
    except ValidationError as exc:
        raise VerdictsRefused(f"{name} line {n}: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None


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
                     "corrected_value": line.corrected_value, "reviewed_at": line.reviewed_at, "run_id": run_id,
                     "adjudication": False})
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


def file_reviewer(lines: list[VerdictLine], given: str | None, name: str) -> str:
    """Whose verdicts these are: the name the page wrote in the file, or ``given`` (--reviewer) for a file
    without one; a file naming several reviewers, or another than ``given``, is refused."""
    named = sorted({line.reviewer for line in lines if line.reviewer})
    given = (given or "").strip() or None
    if len(named) > 1:
        raise VerdictsRefused(f"{name} holds the verdicts of {', '.join(named)}; import one reviewer's export "
                              "at a time; nothing imported")
    if named and given and named[0] != given:
        raise VerdictsRefused(f"{name} was exported by reviewer {named[0]!r}, not {given!r}; nothing imported")
    reviewer = named[0] if named else given
    if not reviewer:
        raise VerdictsRefused(f"{name} names no reviewer (a page from before it asked for one): pass --reviewer; "
                              "nothing imported")
    return reviewer


def import_verdicts(store: OutputStore, path: str, reviewer: str | None, manifest_path: str | None = None,
                    replace: bool = False) -> ImportResult:
    """Check a verdict file and commit it as rows of review_verdicts; raises VerdictsRefused (nothing written).
    The reviewer is the one the file names (the page writes it), else ``reviewer``."""
    name = os.path.basename(path)
    run = store.new_run("review")
    t0 = time.perf_counter()
    lines = read_verdict_file(path)
    reviewer = file_reviewer(lines, reviewer, name)
    with store.locked():
        store.recover()
        manifest = find_manifest(store, lines, name, manifest_path)
        sampled = check_lines(lines, manifest, name)
        check_current(store, manifest, sampled, name)
        rows = verdict_rows(lines, sampled, manifest, reviewer, run.run_id)
        check_not_imported(store, rows, reviewer, name, replace)
        options = {"command": "review import", "reviewer": reviewer, "sample_id": manifest.sample_id,
                   "replace": replace}
        _commit(run, rows, [os.path.abspath(path)], t0, options)
    return ImportResult(run_id=run.run_id, sample_id=manifest.sample_id, reviewer=reviewer, verdicts=len(rows))


class Decision(NamedTuple):
    """An adjudicator's verdict on one disputed item."""

    item_id: str
    verdict: str


class AdjudicationResult(BaseModel):
    run_id: str
    reviewer: str
    #: The disputes settled, with the verdict recorded for each.
    settled: list[Dispute]


def adjudication_rows(decisions: list[Decision], disputes: dict[str, Dispute], samples: dict[str, str],
                      adjudicator: str, run_id: str, when: datetime) -> list[dict]:
    """Rows of review_verdicts that settle disputes: one per item (a later adjudication of the item
    supersedes it), marked ``adjudication``."""
    rows = []
    for decision in decisions:
        d = disputes[decision.item_id]
        rows.append({"verdict_id": stable_id(d.item_id, "", ADJUDICATION), "sample_id": samples[d.item_id],
                     "item_id": d.item_id, "reviewer": adjudicator, "table_name": d.table, "report_id": d.report_id,
                     "task": d.task, "label": d.label, "status": d.status, "value": d.value, "model_id": d.model_id,
                     "verdict": decision.verdict, "corrected_value": None, "reviewed_at": when, "run_id": run_id,
                     "adjudication": True})
    return rows


def check_decisions(decisions: list[Decision], disputes: dict[str, Dispute]) -> None:
    """Each decision names a current disputed item, once, with a verdict."""
    if not decisions:
        raise VerdictsRefused("give at least one ITEM=VERDICT")
    seen: set[str] = set()
    for decision in decisions:
        if decision.verdict not in VERDICTS:
            raise VerdictsRefused(f"{decision.item_id}: verdict {decision.verdict!r} is not one of "
                                  f"{', '.join(VERDICTS)}; nothing recorded")
        if decision.item_id in seen:
            raise VerdictsRefused(f"item {decision.item_id} is given twice; nothing recorded")
        seen.add(decision.item_id)
        if decision.item_id not in disputes:
            open_ = sorted(i for i, d in disputes.items() if d.open)
            raise VerdictsRefused(f"item {decision.item_id} is not disputed among the current verdicts (open "
                                  f"disputes: {', '.join(open_) or 'none'}); nothing recorded")


def adjudicate(store: OutputStore, decisions: list[Decision], adjudicator: str) -> AdjudicationResult:
    """Record an adjudicated verdict for each disputed item: it counts instead of the reviewers' differing
    verdicts and closes the dispute. All or nothing; raises VerdictsRefused (nothing written)."""
    adjudicator = adjudicator.strip()
    if not adjudicator:
        raise VerdictsRefused("--reviewer must name the adjudicator")
    run = store.new_run("review")
    t0 = time.perf_counter()
    with store.locked():
        store.recover()
        verdicts = store.read_table(TABLE).to_pylist()
        current = {i.item_id: i for i in candidates(store, sorted({v["table_name"] for v in verdicts}))}
        disputes = {d.item_id: d for d in settle(verdicts, current).disputes}
        check_decisions(decisions, disputes)
        samples = {v["item_id"]: v["sample_id"] for v in verdicts if not v.get("adjudication")}
        rows = adjudication_rows(decisions, disputes, samples, adjudicator, run.run_id, run.started)
        options = {"command": "review adjudicate", "reviewer": adjudicator,
                   "decisions": {d.item_id: d.verdict for d in decisions}}
        _commit(run, rows, [], t0, options)
    settled = [disputes[d.item_id].model_copy(update={"adjudicated": d.verdict, "adjudicator": adjudicator})
               for d in decisions]
    return AdjudicationResult(run_id=run.run_id, reviewer=adjudicator, settled=settled)


def _commit(run: StoreRun, rows: list[dict], inputs: list[str], t0: float, options: dict) -> None:
    """Commit the verdicts with the command's runs row: every row read is one accepted."""
    wall = round(time.perf_counter() - t0, 3)
    counts = {"read": len(rows), "accepted": len(rows), "accepted_new": len(rows), "skipped_unchanged": 0,
              "rejected": 0, "rejected_by_reason": {}, "rows_by_table": {TABLE: len(rows), "runs": 1},
              "wall_seconds": wall, "reports_per_second": len(rows) / wall if wall else 0.0}
    row = run.runs_row(counts, inputs=inputs, tasks=[], routing=None, options=json.dumps(options))
    run.commit({TABLE: run.stage_rows(TABLE, rows)}, row)
