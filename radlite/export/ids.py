"""OMOP ids that never change: each report, patient and value gets its integer id once, from a map kept in
OUT (``OutputStore.id_map_path``), and every later export, full or ``--since``, reuses it.

New keys get the next number after the largest id of their kind, so two keys never share an id (no hash,
no collision to resolve); an id is never given to another key, even after its report is gone. The map is
saved before the export that uses it is written, so an export never holds an id the map lacks.

Keys: note -> report_id; person -> patient_id; note_nlp -> report_id and the value's key (NUL-separated).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from radlite.export.values import ExportData, ExportError
from radlite.store import OutputStore

ID_KINDS = ("note", "person", "note_nlp")
#: CDM v5.4 ids are ``integer``: 32-bit signed, so at most this many ids per kind.
MAX_ID = 2**31 - 1
ID_MAP_SCHEMA = pa.schema([
    pa.field("kind", pa.string(), nullable=False),
    pa.field("key", pa.string(), nullable=False),
    pa.field("id", pa.int32(), nullable=False),
])


def value_key(report_id: str, key: str) -> str:
    return f"{report_id}\x00{key}"


@dataclass
class IdMap:
    """kind -> key -> id, as saved in OUT; ``assign`` adds keys it has not seen."""

    ids: dict[str, dict[str, int]]

    @classmethod
    def from_table(cls, table: pa.Table) -> IdMap:
        ids: dict[str, dict[str, int]] = {kind: {} for kind in ID_KINDS}
        for kind, key, number in zip(*(table.column(c).to_pylist() for c in ("kind", "key", "id"))):
            ids[kind][key] = number
        return cls(ids)

    def to_table(self) -> pa.Table:
        rows = [(kind, key, number) for kind in ID_KINDS for key, number in self.ids[kind].items()]
        return pa.Table.from_arrays([pa.array([r[i] for r in rows], f.type) for i, f in enumerate(ID_MAP_SCHEMA)],
                                    schema=ID_MAP_SCHEMA)

    def assign(self, kind: str, keys: Iterable[str]) -> int:
        """Give each unseen key the next free id of ``kind`` (in key order); returns how many were new."""
        known = self.ids[kind]
        new = sorted(set(keys) - set(known))
        start = max(known.values(), default=0) + 1
        if start + len(new) - 1 > MAX_ID:
            raise ExportError(f"OMOP {kind} ids exhausted: the CDM's integer ids stop at {MAX_ID}")
        known.update(zip(new, range(start, start + len(new))))
        return len(new)

    def get(self, kind: str, key: str) -> int:
        return self.ids[kind][key]


def assign_ids(store: OutputStore, data: ExportData) -> IdMap:
    """The id map with an id for every report, patient and value of ``data``, saved in OUT before it is
    returned (under the map's lock, so concurrent exports never give out one id twice)."""
    with store.id_map_locked():
        ids = IdMap.from_table(store.read_id_map(ID_MAP_SCHEMA))
        added = ids.assign("note", (r["report_id"] for r in data.reports))
        added += ids.assign("person", (r["patient_id"] for r in data.reports if r["patient_id"]))
        added += ids.assign("note_nlp", (value_key(v.report_id, v.key) for v in data.values))
        if added:
            store.write_id_map(ids.to_table())
    return ids
