"""One export of OUT in a standard format, written atomically: what `radlite export --format fhir|omop` runs."""

from __future__ import annotations

from datetime import UTC, datetime

from radlite.export import fhir, omop
from radlite.export.folder import atomic_folder
from radlite.export.values import load
from radlite.store import OutputStore

FORMATS = ("fhir", "omop")


def export_standard(store: OutputStore, fmt: str, target: str, *, since: str | None = None,
                    with_text: bool = False, concept_map: str | None = None,
                    patient_system: str = fhir.DEFAULT_PATIENT_SYSTEM) -> dict:
    """Write ``target`` (a folder, replaced whole at the end) and return its manifest: what was written,
    counts per file, and the last run included (the ``--since`` of the next incremental export)."""
    data = load(store, since)
    concepts = omop.load_concept_map(concept_map) if concept_map else None
    manifest = {"format": fmt, "transactionTime": datetime.now(UTC).isoformat(timespec="seconds"),
                "since_run_id": since, "through_run_id": data.through_run, "reports": len(data.reports),
                "with_text": with_text, "output": []}
    with atomic_folder(target, manifest) as staging:
        if fmt == "fhir":
            counts = fhir.write_ndjson(data, staging, patient_system, with_text)
            manifest["output"] = [{"type": t, "url": f"{t}.ndjson", "count": n} for t, n in counts.items()]
        elif fmt == "omop":
            counts = omop.write_tables(data, staging, concepts)
            manifest["output"] = [{"table": t.upper(), "url": f"{t}.{ext}", "count": n}
                                  for t, n in counts.items() for ext in ("parquet", "csv")]
        else:
            raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return manifest
