"""The output directory: committed tables, atomic commits, the run lock and the DuckDB catalog.

Layout of OUT::

    tables/<table>/_schema.parquet          zero-row file carrying the table's Arrow schema
    tables/<table>/<run_id>-<n>.parquet     data files, only meaningful once listed in the manifest
    manifest.json                           committed runs and their files: the single commit point
    catalog.duckdb                          one view per table over the manifest's files (+ <task table>_withheld)
    cache/results.sqlite                    model answers by prompt and model (radlite.inference.cache)
    .staging/<run_id>/<table>/*.parquet     a run's output before commit (bundle-<keys> files, or one part file)
    .staging/<run_id>/deduped/<table>/deduped.parquet   a table's staged rows without a runner's duplicates
    .staging/<run_id>/runs/run.parquet      the run's own ``runs`` row, staged last
    .staging/<run_id>-timeline/<table>.parquet   derived tables computed after the run's commit
    .staging/<run_id>/crash/                fatal-signal logs of the run's processes (radlite.inference.crashlog)
    .staging/<run_id>/tmp/                  Beam's temporary files
    .lock                                   held by the running process
    ids/omop_ids.parquet                    OMOP ids given out by exports (radlite.export.ids): only grows
    ids/.lock                               held while an export gives out ids

Every path under OUT comes from ``OutputStore``; other modules ask it, never join OUT's names.
A run into OUT is a ``StoreRun`` (``OutputStore.new_run``): its id (``<UTC start>[-<kind>]-<random>``,
formatted by ``new_run_id`` and read back by ``run_started``), its staged names, its ``runs`` row and
its commit.

Readers see the *current* rows (``current_rows_sql``): one row per report, the latest; earlier
versions stay in the files and in the catalog's ``<table>_history`` views.

A run stages everything, moves its files into ``tables/`` and then replaces ``manifest.json``
atomically. ``on_step(name)`` is told each step of a commit as it is reached (``commit_moving``,
``before_manifest``, ``before_catalog``): a hook for observers, and how the tests kill a run at each.
Files not listed in the manifest are leftovers of a killed run and are removed by the
next run, so readers of the catalog never see half a run, and a rerun neither duplicates nor misses.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from radlite import __version__
from radlite.catalog_views import CATALOG_VIEWS
from radlite.tables import TABLES, TASK_TABLES, arrow_schema

MANIFEST = "manifest.json"
CATALOG = "catalog.duckdb"
#: What the catalog's views are; a catalog of another version is rebuilt before it is read (2: a task
#: table's view holds its published rows, ``<table>_withheld`` the withheld ones).
CATALOG_VERSION = 2
#: Folder of the ids exports give out; a run never touches it (recover and repair leave it alone).
IDS_DIR = "ids"
#: Tables with one current row per key: the latest run's. Task tables follow their report (see
#: current_rows_sql); ``runs`` keeps every row.
KEYED_TABLES = {"reports": "report_id", "rejects": "reject_id", "review_verdicts": "verdict_id"}
#: Tables recomputed per patient after a commit (radlite.timeline): the latest computation per key,
#: among rows whose report still belongs to that patient.
DERIVED_TABLES = {"report_priors": "report_id", "finding_timeline": "patient_id"}
_RUN_FILE = re.compile(r"^(?P<run>.+)-(?P<n>\d{5})\.parquet$")
#: How a run id begins: the run's UTC start to the microsecond, so ids sort in start order.
RUN_ID_TIME = "%Y%m%dT%H%M%S.%fZ"
#: What wrote a run: ``radlite run`` (``etl``, no word in its id) or a review command (``-review-``).
RunKind = Literal["etl", "review"]
_RUN_ID_WORD: dict[str, str] = {"etl": "", "review": "review-"}


def new_run_id(started: datetime, kind: RunKind) -> str:
    """Sorts in start order (to the microsecond, so two runs in one second still sort); the random
    suffix keeps runs started at the same instant on different machines apart."""
    return started.strftime(RUN_ID_TIME) + "-" + _RUN_ID_WORD[kind] + secrets.token_hex(3)


def run_started(run_id: str) -> datetime:
    """When a run started (UTC, naive), read back from its id (new_run_id)."""
    return datetime.strptime(run_id.split("-", 1)[0], RUN_ID_TIME)


class StoreManifest(BaseModel):
    """manifest.json, the single commit point: committed runs in commit order and each table's files.
    Marks saved by derived tables (radlite.timeline's ``timeline_through``) are extra keys."""

    model_config = ConfigDict(extra="allow")

    runs: list[str] = Field(default_factory=list, description="Committed run ids, in commit order.")
    files: dict[str, list[str]] = Field(default_factory=dict, description="Per table its data file names.")

    def mark(self, name: str) -> str | None:
        """A mark a derived table saved (``commit_derived``), None before its first save."""
        return (self.model_extra or {}).get(name)


class RepairResult(BaseModel):
    """What `radlite repair` kept and dropped."""

    runs: list[str] = Field(description="Runs whose files all verified, in commit order.")
    files: int = Field(description="Data files kept in the rebuilt manifest.")
    dropped: list[str] = Field(description="Files dropped (unreadable, wrong schema, or of an uncommitted run), "
                                           "relative to OUT.")


def committed_name(run_id: str, n: int) -> str:
    """The name of a run's ``n``-th data file of a table under tables/ (read back by _RUN_FILE)."""
    return f"{run_id}-{n:05d}.parquet"


def staged_table_dir(staging_dir: str, table: str) -> str:
    """Where a run's writers put ``table``'s files inside its staging directory (StoreRun.staging_dir)."""
    return os.path.join(staging_dir, table)


def staged_bundle_path(staging_dir: str, table: str, keys: str) -> str:
    """The name a Beam bundle's rows of ``table`` get once written: derived from the bundle's ``keys``, so
    a retried bundle replaces its first attempt's file instead of adding one."""
    return os.path.join(staged_table_dir(staging_dir, table), f"bundle-{keys}.parquet")


def staged_crash_dir(staging_dir: str) -> str:
    """Where the processes of the run staging into ``staging_dir`` log a fatal signal (radlite.inference.crashlog)."""
    return os.path.join(staging_dir, "crash")


class OutputLocked(RuntimeError):
    """Another run holds the lock on this output directory."""


class StoreDamaged(RuntimeError):
    """OUT's own state is damaged or unsafe; the message says what was found and how to repair it."""


def _atomic_write_text(path: str, text: str) -> None:
    """Write, fsync, rename: readers see the old file or the new one. Permissions follow the umask."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


#: How long a run waits for OUT's lock before it says OUT is locked: a run killed a moment ago (its
#: supervising ``radlite`` process and the child doing the work die a few milliseconds apart) may still
#: be releasing it; a run that is really going on holds it far longer.
LOCK_GRACE_SECONDS = 2.0


def _flock_soon(fh) -> None:
    """Take the exclusive lock, retrying for LOCK_GRACE_SECONDS; raises BlockingIOError."""
    deadline = time.monotonic() + LOCK_GRACE_SECONDS
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def current_rows_sql(table: str, withheld: bool | None = False) -> str:
    """SQL for the current rows of ``table`` over the views ``<table>_history``, ``reports_history`` and
    ``_radlite_run_order(run_id, seq)`` (commit order).

    reports and rejects: the latest row per key, so an edited report or a --full rerun replaces, never
    duplicates. Task tables: per report and task the latest run's rows, among runs since the report's
    current text was first committed (rows made from an older text are history); of them the published
    ones (``withheld`` False), the withheld ones (True) or all (None). Rows of files written before the
    column existed read withheld as null: published.
    """
    if table in TASK_TABLES and withheld is not None:
        keep = "withheld" if withheld else "withheld IS NOT TRUE"
        return f"SELECT * FROM ({current_rows_sql(table, None)}) WHERE {keep}"
    if table == "runs":
        return 'SELECT * FROM "runs_history"'
    if table in DERIVED_TABLES:
        return (f'SELECT t.* FROM "{table}_history" t JOIN _radlite_run_order o USING (run_id) '
                f'WHERE EXISTS (SELECT 1 FROM ({current_rows_sql("reports")}) r WHERE r.report_id = t.report_id '
                "AND r.patient_id IS NOT DISTINCT FROM t.patient_id) "
                f"QUALIFY o.seq = max(o.seq) OVER (PARTITION BY t.{DERIVED_TABLES[table]})")
    if table in KEYED_TABLES:
        return (f'SELECT h.* FROM "{table}_history" h JOIN _radlite_run_order o USING (run_id) '
                f"QUALIFY row_number() OVER (PARTITION BY h.{KEYED_TABLES[table]} ORDER BY o.seq DESC) = 1")
    return f"""
        WITH v AS (SELECT r.report_id, r.text_sha256, o.seq,
                          first_value(r.text_sha256) OVER (PARTITION BY r.report_id ORDER BY o.seq DESC) AS cur
                   FROM reports_history r JOIN _radlite_run_order o USING (run_id)),
             b AS (SELECT report_id, coalesce(max(seq) FILTER (WHERE text_sha256 <> cur), -1) AS last_other
                   FROM v GROUP BY report_id),
             s AS (SELECT v.report_id, min(v.seq) AS since FROM v JOIN b USING (report_id)
                   WHERE v.text_sha256 = v.cur AND v.seq > b.last_other GROUP BY v.report_id)
        SELECT t.* FROM "{table}_history" t JOIN _radlite_run_order o USING (run_id) JOIN s USING (report_id)
        WHERE o.seq >= s.since
        QUALIFY o.seq = max(o.seq) OVER (PARTITION BY t.report_id, t.task)"""


class OutputStore:
    """One OUT directory. Use ``with store.locked():`` around a run."""

    def __init__(self, root: str, on_step: Callable[[str], None] | None = None):
        self.root = os.path.abspath(root)
        self.on_step = on_step or (lambda step: None)

    # -- paths -------------------------------------------------------------------------------
    def table_dir(self, table: str) -> str:
        return os.path.join(self.root, "tables", table)

    def staging_dir(self, run_id: str) -> str:
        return os.path.join(self.root, ".staging", run_id)

    @property
    def cache_path(self) -> str:
        """The result cache shared by every run into this OUT."""
        return os.path.join(self.root, "cache", "results.sqlite")

    def derived_staging_dir(self, run_id: str) -> str:
        """Where the tables derived after ``run_id``'s commit are staged (apart from the run's own staging
        directory, which its commit removes)."""
        return self.staging_dir(run_id + "-timeline")

    def new_run(self, kind: RunKind, started: datetime | None = None) -> StoreRun:
        """A new run into this OUT (nothing is written until it stages); ``started`` defaults to now."""
        return StoreRun(self, kind, started or datetime.now(UTC))

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.root, MANIFEST)

    @property
    def catalog_path(self) -> str:
        return os.path.join(self.root, CATALOG)

    @property
    def id_map_path(self) -> str:
        """The OMOP ids every export of this OUT gives out and reuses (radlite.export.ids)."""
        return os.path.join(self.root, IDS_DIR, "omop_ids.parquet")

    # -- safety ----------------------------------------------------------------------------
    def check_no_links(self) -> None:
        """Refuse an OUT whose own files or folders are links: writing through them would reach
        (truncate, delete) files outside OUT."""
        own = [os.path.join(self.root, n) for n in (".lock", MANIFEST, CATALOG, "tables", ".staging", "cache", IDS_DIR)]
        own += [self.id_map_path, os.path.join(self.root, IDS_DIR, ".lock")]
        own += [self.table_dir(t) for t in TABLES]
        linked = [p for p in own if os.path.islink(p)]
        if linked:
            raise StoreDamaged(f"{self.root}: {', '.join(os.path.relpath(p, self.root) for p in linked)} "
                               "is a link; radlite writes only inside OUT: replace the link with a real folder/file")

    # -- lock --------------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock; a second concurrent run fails at once with a clear message."""
        os.makedirs(self.root, exist_ok=True)
        self.check_no_links()
        fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        fh = os.fdopen(fd, "r+")
        try:
            _flock_soon(fh)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise OutputLocked(f"{self.root} is locked by a running radlite run ({holder}); "
                               "wait for it to finish or point --out elsewhere") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    # -- id map ------------------------------------------------------------------------------
    @contextmanager
    def id_map_locked(self) -> Iterator[None]:
        """Hold the id map's own lock (not the run lock: an export may run beside a run); a second export
        waits for the first, so two never give out the same id."""
        os.makedirs(os.path.dirname(self.id_map_path), exist_ok=True)
        self.check_no_links()
        fd = os.open(os.path.join(os.path.dirname(self.id_map_path), ".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                     0o666)
        with os.fdopen(fd, "r+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def read_id_map(self, schema: pa.Schema) -> pa.Table:
        """The saved id map (an empty table of ``schema`` before the first export)."""
        if not os.path.exists(self.id_map_path):
            return schema.empty_table()
        try:
            return pq.read_table(self.id_map_path, schema=schema)
        except (OSError, pa.ArrowException) as exc:
            raise StoreDamaged(f"{self.id_map_path} is unreadable ({exc}); the OMOP ids given out so far are in "
                               "it: restore it from a backup before the next OMOP export") from None

    def write_id_map(self, table: pa.Table) -> None:
        """Replace the id map atomically: write, fsync, rename (readers see the old map or the new one)."""
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.id_map_path), prefix=".tmp-", suffix=".parquet")
        try:
            with os.fdopen(fd, "wb") as fh:
                pq.write_table(table, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, self.id_map_path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    # -- manifest ----------------------------------------------------------------------------
    def data_files_on_disk(self) -> dict[str, list[str]]:
        """Run data files present under tables/ (committed or not), by table."""
        found: dict[str, list[str]] = {}
        for table in TABLES:
            directory = self.table_dir(table)
            names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
            found[table] = [n for n in names if _RUN_FILE.match(n)]
        return found

    def manifest(self) -> StoreManifest:
        """The committed state. Raises StoreDamaged when manifest.json is unreadable, or missing
        while committed-looking data files exist (a run would otherwise delete them)."""
        if not os.path.exists(self.manifest_path):
            if any(self.data_files_on_disk().values()):
                raise StoreDamaged(f"{self.manifest_path} is missing but {self.root}/tables holds data files; "
                                   f"nothing was deleted. Run `radlite repair {self.root}` to rebuild it")
            return StoreManifest(files={t: [] for t in TABLES})
        try:
            with open(self.manifest_path) as fh:
                manifest = StoreManifest.model_validate(json.load(fh))
            if "runs" not in manifest.model_fields_set or "files" not in manifest.model_fields_set:
                raise ValueError("runs and files missing")
        except (OSError, ValueError, AttributeError) as exc:
            raise StoreDamaged(f"{self.manifest_path} is unreadable ({exc}); nothing was deleted. "
                               f"Run `radlite repair {self.root}` to rebuild it from the data files") from None
        for table in TABLES:
            manifest.files.setdefault(table, [])
        return manifest

    def _write_manifest(self, manifest: StoreManifest) -> None:
        _atomic_write_text(self.manifest_path, manifest.model_dump_json(indent=1))

    def committed_files(self, table: str) -> list[str]:
        """Absolute paths of the committed data files of ``table``."""
        return [os.path.join(self.table_dir(table), name) for name in self.manifest().files[table]]

    def check_files(self) -> None:
        """Every file the manifest lists must exist; raises StoreDamaged naming the missing ones."""
        missing = [p for t in TABLES for p in self.committed_files(t) if not os.path.exists(p)]
        if missing:
            raise StoreDamaged(f"{len(missing)} committed data file(s) are missing, e.g. {missing[0]}; "
                               f"run `radlite repair {self.root}` to drop them from the manifest "
                               "(their rows are lost; rerun with --full to recompute them)")

    def _history_views(self, con: duckdb.DuckDBPyConnection, tables, manifest: StoreManifest) -> None:
        """``<table>_history`` views over the committed files, and ``_radlite_run_order`` (commit order)."""
        runs = manifest.runs or [""]
        con.execute("CREATE OR REPLACE TABLE _radlite_run_order AS SELECT * FROM (VALUES "
                    + ", ".join(f"('{r}', {i})" for i, r in enumerate(runs)) + ") AS t(run_id, seq)")
        for table in tables:
            files = [os.path.join(self.table_dir(table), "_schema.parquet")]
            files += [os.path.join(self.table_dir(table), n) for n in manifest.files[table]]
            # by name: files written before a column was added read it as null
            con.execute(f'CREATE OR REPLACE VIEW "{table}_history" AS SELECT * FROM '
                        f'read_parquet({_sql_list(files)}, union_by_name = true)')

    def committed_views(self, tables) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with ``<table>_history`` and current ``<table>`` views of ``tables``
        (and of reports), for steps that compute from the committed state (published values only)."""
        con = duckdb.connect()
        tables = set(tables) | {"reports"}
        self._history_views(con, tables, self.manifest())
        for table in tables:
            con.execute(f'CREATE VIEW "{table}" AS {current_rows_sql(table)}')
        return con

    def read_table(self, table: str, columns: list[str] | None = None, history: bool = False,
                   include_withheld: bool = False) -> pa.Table:
        """The committed rows of ``table``: the current ones (of a task table the published ones, and the
        withheld ones too with ``include_withheld``), or with ``history`` every version."""
        manifest = self.manifest()
        schema = arrow_schema(table)
        if not manifest.files[table]:
            empty = schema.empty_table()
            return empty.select(columns) if columns else empty
        con = duckdb.connect()
        try:
            self._history_views(con, {table, "reports"}, manifest)
            query = (f'SELECT * FROM "{table}_history"' if history
                     else current_rows_sql(table, None if include_withheld else False))
            rows = con.sql(query).to_arrow_table()
        finally:
            con.close()
        for field in schema:  # a column added to the contract after every file was written
            if field.name not in rows.column_names:
                rows = rows.append_column(field.name, pa.nulls(rows.num_rows, field.type))
        rows = rows.select(schema.names).cast(schema)
        return rows.select(columns) if columns else rows

    # -- recovery, staging, commit -----------------------------------------------------------
    def recover(self) -> list[str]:
        """Remove what a killed run left behind: staging dirs and table files no manifest lists.
        Refuses (StoreDamaged) when the manifest is damaged or lists files that are gone."""
        manifest = self.manifest()
        self.check_files()
        removed: list[str] = []
        staging_root = os.path.join(self.root, ".staging")
        if os.path.isdir(staging_root):
            shutil.rmtree(staging_root)
            removed.append(staging_root)
        for table in TABLES:
            directory = self.table_dir(table)
            os.makedirs(directory, exist_ok=True)
            self._ensure_schema_file(table)
            keep = set(manifest.files[table]) | {"_schema.parquet"}
            for name in os.listdir(directory):
                if name not in keep:
                    os.remove(os.path.join(directory, name))
                    removed.append(os.path.join(directory, name))
        return removed

    def repair(self) -> RepairResult:
        """Rebuild the manifest from the data files that verify: each must read as Parquet with its
        table's schema, and belong to a run whose ``runs`` file is present (moved last by a commit,
        so the run's other files are all there). Keeps the damaged manifest beside it. Returns what
        was kept and dropped."""
        candidates = self.data_files_on_disk()
        complete = {_RUN_FILE.match(n)["run"] for n in candidates["runs"]}
        files: dict[str, list[str]] = {t: [] for t in TABLES}
        dropped: list[str] = []
        for table, names in candidates.items():
            for name in names:
                path = os.path.join(self.table_dir(table), name)
                if _RUN_FILE.match(name)["run"] in complete and _schema_matches(path, table):
                    files[table].append(name)
                else:
                    dropped.append(os.path.relpath(path, self.root))
        runs = sorted(complete, key=lambda run: self._finished_at(run, files["runs"]))
        if os.path.exists(self.manifest_path):
            os.replace(self.manifest_path, self.manifest_path + ".damaged")
        self._write_manifest(StoreManifest(runs=runs, files=files))
        self.build_catalog()
        return RepairResult(runs=runs, files=sum(len(v) for v in files.values()), dropped=dropped)

    def _ensure_schema_file(self, table: str) -> None:
        path = os.path.join(self.table_dir(table), "_schema.parquet")
        current = arrow_schema(table)
        if not os.path.exists(path) or not pq.read_schema(path).remove_metadata().equals(current.remove_metadata()):
            pq.write_table(current.empty_table(), path)  # an OUT from before a column was added gets it

    def staged_files(self, run_id: str, table: str) -> list[str]:
        """Non-empty Parquet files a run staged for ``table``, in name order."""
        directory = staged_table_dir(self.staging_dir(run_id), table)
        if not os.path.isdir(directory):
            return []
        paths = sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".parquet"))
        return [p for p in paths if pq.read_metadata(p).num_rows > 0]

    def commit(self, run_id: str, staged: dict[str, list[str]]) -> StoreManifest:
        """Move staged files into place, then publish them by replacing the manifest atomically."""
        manifest = self.manifest()
        moved_any = False
        for table, paths in staged.items():
            for n, path in enumerate(paths):
                name = committed_name(run_id, n)
                os.replace(path, os.path.join(self.table_dir(table), name))
                manifest.files[table].append(name)
                if not moved_any:
                    self.on_step("commit_moving")
                    moved_any = True
        manifest.runs.append(run_id)
        self.on_step("before_manifest")
        self._write_manifest(manifest)
        self.on_step("before_catalog")
        shutil.rmtree(self.staging_dir(run_id), ignore_errors=True)
        self.build_catalog()
        return manifest

    def stage_derived(self, run_id: str, table: str, rows: list[dict]) -> list[str]:
        """Stage rows of a table derived after ``run_id``'s commit (commit_derived publishes them): the file
        written, none for no rows."""
        if not rows:
            return []
        return [_write_rows(os.path.join(self.derived_staging_dir(run_id), f"{table}.parquet"), table, rows)]

    def commit_derived(self, run_id: str, staged: dict[str, list[str]], marks: dict[str, str]) -> None:
        """Publish tables computed from the committed state after ``run_id``'s commit (radlite.timeline):
        their files join the run's, under its id, and ``marks`` (e.g. the last run they cover) are saved
        in the manifest, in one atomic manifest replace as in commit. Their staging directory is removed."""
        manifest = self.manifest()
        for table, paths in staged.items():
            taken = sum(name.startswith(run_id + "-") for name in manifest.files[table])
            for n, path in enumerate(paths, taken):
                name = committed_name(run_id, n)
                os.replace(path, os.path.join(self.table_dir(table), name))
                manifest.files[table].append(name)
        manifest = StoreManifest.model_validate({**manifest.model_dump(), **marks})
        self.on_step("before_derived_manifest")
        self._write_manifest(manifest)
        if any(staged.values()):
            self.build_catalog()
        shutil.rmtree(self.derived_staging_dir(run_id), ignore_errors=True)

    def _finished_at(self, run_id: str, run_files: list[str]):
        """When a run committed, from its own runs row (commit order for repaired manifests)."""
        name = next((n for n in run_files if n.startswith(run_id + "-")), None)
        if name is None:
            return (1, run_id)
        table = pq.read_table(os.path.join(self.table_dir("runs"), name), columns=["finished_at"])
        return (0, str(table.column("finished_at")[0]), run_id)

    # -- catalog -----------------------------------------------------------------------------
    def build_catalog(self) -> None:
        """Rewrite catalog.duckdb (into a temp file, then rename): per table a view of its current
        rows (of a task table its published ones), a ``<table>_history`` view of every committed row, and
        per task table a ``<table>_withheld`` view of its current withheld rows."""
        manifest = self.manifest()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".catalog-", suffix=".duckdb")
        os.close(fd)
        os.remove(tmp)
        con = duckdb.connect(tmp)
        try:
            self._history_views(con, TABLES, manifest)
            for table in TABLES:
                con.execute(f'CREATE VIEW "{table}" AS {current_rows_sql(table)}')
            for table in TASK_TABLES:
                con.execute(f'CREATE VIEW "{table}_withheld" AS {current_rows_sql(table, withheld=True)}')
            for name, sql in CATALOG_VIEWS.items():
                con.execute(f'CREATE VIEW "{name}" AS {sql}')
            con.execute("CREATE TABLE _radlite_catalog AS SELECT ? AS root, ? AS runs, ? AS version",
                        [self.root, len(manifest.runs), CATALOG_VERSION])
        finally:
            con.close()
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, self.catalog_path)

    def catalog_is_current(self) -> bool:
        """True when catalog.duckdb matches this directory's location and manifest."""
        if not os.path.exists(self.catalog_path):
            return False
        try:
            con = duckdb.connect(self.catalog_path, read_only=True)
            root, runs, version = con.execute("SELECT root, runs, version FROM _radlite_catalog").fetchone()
            con.close()
        except duckdb.Error:  # damaged, or written before the catalog had a version
            return False
        return root == self.root and runs == len(self.manifest().runs) and version == CATALOG_VERSION


class StoreRun:
    """One run into OUT, from its id to its commit (the idea of dlt's load package): the id, where each
    table is staged, the ``runs`` row and the atomic commit. Made by ``OutputStore.new_run``; every
    writer of OUT (``radlite run``, ``radlite review import`` and ``adjudicate``) stages and commits
    through one."""

    def __init__(self, store: OutputStore, kind: RunKind, started: datetime):
        self.store = store
        self.kind = kind
        self.started = started
        self.run_id = new_run_id(started, kind)

    @property
    def staging_dir(self) -> str:
        return self.store.staging_dir(self.run_id)

    @property
    def crash_dir(self) -> str:
        """Where the run's processes log a fatal signal (radlite.inference.crashlog)."""
        return staged_crash_dir(self.staging_dir)

    @property
    def temp_dir(self) -> str:
        """Beam's temporary files during the run, removed with its staging directory."""
        return os.path.join(self.staging_dir, "tmp")

    @property
    def run_file(self) -> str:
        """The run's own ``runs`` row, staged last (repair counts a run committed once it is in place)."""
        return os.path.join(self.staging_dir, "runs", "run.parquet")

    def staged_files(self, table: str) -> list[str]:
        """Non-empty Parquet files the run staged for ``table``, in name order."""
        return self.store.staged_files(self.run_id, table)

    def deduped_file(self, table: str) -> str:
        """Where a table's staged rows go once a runner's duplicate bundles are dropped."""
        return os.path.join(self.staging_dir, "deduped", table, "deduped.parquet")

    def stage_rows(self, table: str, rows: list[dict]) -> list[str]:
        """Stage ``rows`` of ``table`` as one file (for writers that hold all their rows at once)."""
        path = os.path.join(staged_table_dir(self.staging_dir, table), "part.parquet")
        return [_write_rows(path, table, rows)]

    def runs_row(self, counts: dict, *, inputs: list[str], tasks: list[str], routing: str | None,
                 options: str) -> dict:
        """The run's audit row: the run's own fields, then each of ``counts`` that the ``runs`` table has a
        column for (a dict stored as JSON); ``finished_at`` is now."""
        row = {"run_id": self.run_id, "started_at": self.started, "finished_at": datetime.now(UTC),
               "status": "committed", "inputs": inputs, "tasks": tasks, "routing": routing,
               "radlite_version": __version__, "options": options}
        for name, value in counts.items():
            if name not in row:
                row[name] = json.dumps(value, sort_keys=True) if isinstance(value, dict) else value
        columns = {c.name for c in TABLES["runs"]}
        return {k: v for k, v in row.items() if k in columns}

    def commit(self, staged: dict[str, list[str]], runs_row: dict) -> StoreManifest:
        """Stage the ``runs`` row last, then commit the staged files atomically (OutputStore.commit)."""
        staged = {**staged, "runs": [_write_rows(self.run_file, "runs", [runs_row])]}
        return self.store.commit(self.run_id, staged)


def _write_rows(path: str, table: str, rows: list[dict]) -> str:
    """Write ``rows`` of ``table`` with its schema to ``path`` (its folder made); returns the path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(table)), path)
    return path


def _schema_matches(path: str, table: str) -> bool:
    """The file is one of ``table``'s: written with its schema, or with an earlier version of it (the
    contract only adds nullable columns; readers see them as null in older files)."""
    try:
        return schema_compatible(pq.read_schema(path), arrow_schema(table))
    except (OSError, pa.ArrowException):
        return False


def schema_compatible(found: pa.Schema, current: pa.Schema) -> bool:
    """Every column of ``found`` is in ``current`` with the same type, and what it lacks is nullable."""
    fields = {f.name: f for f in current}
    if any(f.name not in fields or not f.type.equals(fields[f.name].type) for f in found):
        return False
    return all(fields[name].nullable for name in set(fields) - set(found.names))
