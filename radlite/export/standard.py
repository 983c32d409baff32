"""One export of OUT in a standard format, written atomically: what `radlite export --format fhir|omop` runs.

Both formats get an ``export.json`` in the shape of the FHIR Bulk Data manifest (Bulk Data Access IG
v2.0.0, "Response - Complete Status": transactionTime, request, requiresAccessToken, output[], error[]),
with radlite's own fields under ``extension`` (the name the IG reserves for them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from radlite.export import fhir, omop
from radlite.export.folder import atomic_folder
from radlite.export.ids import assign_ids
from radlite.export.values import ExportData, load
from radlite.store import OutputStore

FORMATS = ("fhir", "omop")
#: What each format writes: the types an export.json lists, in order.
EXPORT_TYPES = {"fhir": fhir.RESOURCE_TYPES, "omop": tuple(t.upper() for t in omop.TABLES)}


class ManifestFile(BaseModel):
    """One file of the export: FHIR resource type (or OMOP table), its absolute file URL, its rows."""

    type: str = Field(description="FHIR resource type of every line, or the OMOP table (NOTE, NOTE_NLP).")
    url: str = Field(description="Absolute file:// URL of the file, in the export folder's final place.")
    count: int = Field(description="Resources (lines) or rows in the file.")


class ExportInfo(BaseModel):
    """radlite's fields of export.json (its ``extension``)."""

    format: str = Field(description="fhir or omop.")
    since_run_id: str | None = Field(description="--since of this export (null: a full export).")
    through_run_id: str | None = Field(description="Last committed run included: the --since of the next export.")
    reports: int = Field(description="Reports exported.")
    with_text: bool = Field(description="Report text included (fhir --with-text).")
    include_withheld: bool = Field(False, description="Withheld values included, marked (--include-withheld).")


class ExportManifest(BaseModel):
    """export.json: the Bulk Data manifest's required fields (their names as the IG spells them)."""

    model_config = ConfigDict(populate_by_name=True)

    transaction_time: str = Field(alias="transactionTime", description="When the export read OUT (ISO 8601, UTC).")
    request: str = Field(description="The export as a Bulk Data kick-off URL on OUT ($export, _type, _since).")
    requires_access_token: bool = Field(False, alias="requiresAccessToken",
                                        description="False: plain files, no server to authorise against.")
    output: list[ManifestFile] = Field(default_factory=list)
    error: list[ManifestFile] = Field(default_factory=list, description="Files of OperationOutcomes: none written.")
    extension: ExportInfo

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=1) + "\n"


def _request(store: OutputStore, fmt: str, since: str | None) -> str:
    """The kick-off URL this export answers: OUT's $export for the format's types, ``_since`` the instant the
    --since run committed (what Bulk Data's _since means: changed after it)."""
    url = f"{Path(store.root).as_uri()}/$export?_type={','.join(EXPORT_TYPES[fmt])}"
    if since is not None:
        runs = store.read_table("runs", ["run_id", "finished_at"]).to_pylist()
        finished = next(r["finished_at"] for r in runs if r["run_id"] == since)
        url += "&_since=" + quote(finished.isoformat(timespec="seconds"))
    return url


def _write(store: OutputStore, data: ExportData, fmt: str, staging: str, with_text: bool, concept_map: str | None,
           patient_system: str) -> dict[str, int]:
    """Write the format's files into ``staging``; returns type -> count."""
    if fmt == "fhir":
        return fhir.write_ndjson(data, staging, patient_system, with_text)
    concepts = omop.load_concept_map(concept_map) if concept_map else None
    ids = assign_ids(store, data)  # saved in OUT before any file that uses the ids
    return {t.upper(): n for t, n in omop.write_tables(data, ids, staging, concepts).items()}


def export_standard(store: OutputStore, fmt: str, target: str, *, since: str | None = None,
                    with_text: bool = False, concept_map: str | None = None,
                    patient_system: str = fhir.DEFAULT_PATIENT_SYSTEM, include_withheld: bool = False
                    ) -> ExportManifest:
    """Write ``target`` (a folder, replaced whole at the end) and return its manifest: what was written,
    counts per file, and the last run included (the ``--since`` of the next incremental export)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    data = load(store, since, include_withheld)
    manifest = ExportManifest(
        transaction_time=datetime.now(UTC).isoformat(timespec="seconds"), request=_request(store, fmt, since),
        extension=ExportInfo(format=fmt, since_run_id=since, through_run_id=data.through_run,
                             reports=len(data.reports), with_text=with_text, include_withheld=include_withheld))
    base = Path(target).absolute().as_uri()
    with atomic_folder(target, manifest.to_json) as staging:
        counts = _write(store, data, fmt, staging, with_text, concept_map, patient_system)
        files = [(t, f"{t}.ndjson") for t in counts] if fmt == "fhir" else \
            [(t, f"{t.lower()}.{ext}") for t in counts for ext in ("parquet", "csv")]
        manifest.output = [ManifestFile(type=t, url=f"{base}/{name}", count=counts[t]) for t, name in files]
    return manifest
