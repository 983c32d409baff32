"""The output directory: committed tables, atomic commits, the run lock and the DuckDB catalog.

Layout of OUT::

    tables/<table>/_schema.parquet          zero-row file carrying the table's Arrow schema
    tables/<table>/<run_id>-<n>.parquet     data files, only meaningful once listed in the manifest
    manifest.json                           committed runs and their files: the single commit point
    catalog.duckdb                          one view per table over the manifest's files
    .staging/<run_id>/                      a run's output before commit
    .lock                                   held by the running process

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
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from radlite.tables import TABLES, arrow_schema

MANIFEST = "manifest.json"
CATALOG = "catalog.duckdb"


class OutputLocked(RuntimeError):
    """Another run holds the lock on this output directory."""


def _atomic_write_text(path: str, text: str) -> None:
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
    def manifest_path(self) -> str:
        return os.path.join(self.root, MANIFEST)

    @property
    def catalog_path(self) -> str:
        return os.path.join(self.root, CATALOG)

    # -- lock --------------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock; a second concurrent run fails at once with a clear message."""
        os.makedirs(self.root, exist_ok=True)
        fh = open(os.path.join(self.root, ".lock"), "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
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

    # -- manifest ----------------------------------------------------------------------------
    def manifest(self) -> dict:
        if not os.path.exists(self.manifest_path):
            return {"runs": [], "files": {t: [] for t in TABLES}}
        with open(self.manifest_path) as fh:
            manifest = json.load(fh)
        for table in TABLES:
            manifest["files"].setdefault(table, [])
        return manifest

    def committed_files(self, table: str) -> list[str]:
        """Absolute paths of the committed data files of ``table``."""
        return [os.path.join(self.table_dir(table), name) for name in self.manifest()["files"][table]]

    def read_table(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """All committed rows of ``table`` (an empty table of the right schema when none)."""
        files = self.committed_files(table)
        schema = arrow_schema(table)
        if not files:
            empty = schema.empty_table()
            return empty.select(columns) if columns else empty
        return pa.concat_tables(pq.read_table(f, columns=columns, schema=schema) for f in files)

    # -- recovery, staging, commit -----------------------------------------------------------
    def recover(self) -> list[str]:
        """Remove what a killed run left behind: staging dirs and table files no manifest lists."""
        removed: list[str] = []
        staging_root = os.path.join(self.root, ".staging")
        if os.path.isdir(staging_root):
            shutil.rmtree(staging_root)
            removed.append(staging_root)
        manifest = self.manifest()
        for table in TABLES:
            directory = self.table_dir(table)
            os.makedirs(directory, exist_ok=True)
            self._ensure_schema_file(table)
            keep = set(manifest["files"][table]) | {"_schema.parquet"}
            for name in os.listdir(directory):
                if name not in keep:
                    os.remove(os.path.join(directory, name))
                    removed.append(os.path.join(directory, name))
        return removed

    def _ensure_schema_file(self, table: str) -> None:
        path = os.path.join(self.table_dir(table), "_schema.parquet")
        if not os.path.exists(path):
            pq.write_table(arrow_schema(table).empty_table(), path)

    def staged_files(self, run_id: str, table: str) -> list[str]:
        """Non-empty Parquet files a run staged for ``table``, in name order."""
        directory = os.path.join(self.staging_dir(run_id), table)
        if not os.path.isdir(directory):
            return []
        paths = sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".parquet"))
        return [p for p in paths if pq.read_metadata(p).num_rows > 0]

    def commit(self, run_id: str, staged: dict[str, list[str]]) -> dict:
        """Move staged files into place, then publish them by replacing the manifest atomically."""
        manifest = self.manifest()
        moved_any = False
        for table, paths in staged.items():
            for n, path in enumerate(paths):
                name = f"{run_id}-{n:05d}.parquet"
                os.replace(path, os.path.join(self.table_dir(table), name))
                manifest["files"][table].append(name)
                if not moved_any:
                    self.on_step("commit_moving")
                    moved_any = True
        manifest["runs"].append(run_id)
        self.on_step("before_manifest")
        _atomic_write_text(self.manifest_path, json.dumps(manifest, indent=1))
        self.on_step("before_catalog")
        shutil.rmtree(self.staging_dir(run_id), ignore_errors=True)
        self.build_catalog()
        return manifest

    # -- catalog -----------------------------------------------------------------------------
    def build_catalog(self) -> None:
        """Rewrite catalog.duckdb (into a temp file, then rename) with a view per table."""
        manifest = self.manifest()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".catalog-", suffix=".duckdb")
        os.close(fd)
        os.remove(tmp)
        con = duckdb.connect(tmp)
        try:
            for table in TABLES:
                files = [os.path.join(self.table_dir(table), "_schema.parquet")]
                files += [os.path.join(self.table_dir(table), n) for n in manifest["files"][table]]
                listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                con.execute(f'CREATE VIEW "{table}" AS SELECT * FROM read_parquet([{listing}])')
            con.execute("CREATE TABLE _radlite_catalog AS SELECT ? AS root, ? AS runs",
                        [self.root, len(manifest["runs"])])
        finally:
            con.close()
        os.replace(tmp, self.catalog_path)

    def catalog_is_current(self) -> bool:
        """True when catalog.duckdb matches this directory's location and manifest."""
        if not os.path.exists(self.catalog_path):
            return False
        try:
            con = duckdb.connect(self.catalog_path, read_only=True)
            root, runs = con.execute("SELECT root, runs FROM _radlite_catalog").fetchone()
            con.close()
        except duckdb.Error:
            return False
        return root == self.root and runs == len(self.manifest()["runs"])
