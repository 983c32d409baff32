"""Input specifications: which file, which format, which columns hold what."""

from __future__ import annotations

import glob
import os
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from radlite.text.sections import SECTION_NAMES


class InputFormat(str, Enum):
    FOLDER = "folder"
    ZIP = "zip"
    TAR = "tar"
    TEXT = "txt"
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    HL7 = "hl7"


_SUFFIX_FORMATS = {
    ".zip": InputFormat.ZIP,
    ".tar": InputFormat.TAR,
    ".tgz": InputFormat.TAR,
    ".tar.gz": InputFormat.TAR,
    ".tar.bz2": InputFormat.TAR,
    ".tar.xz": InputFormat.TAR,
    ".txt": InputFormat.TEXT,
    ".csv": InputFormat.CSV,
    ".tsv": InputFormat.CSV,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
    ".parquet": InputFormat.PARQUET,
    ".pq": InputFormat.PARQUET,
    ".hl7": InputFormat.HL7,
}

#: Column names tried, in order, when no mapping is given.
ID_COLUMN_GUESSES = ("report_id", "id", "uid", "accession", "accession_number", "study_id", "VolumeName")
TEXT_COLUMN_GUESSES = ("text", "report", "report_text", "full_text", "content")


class ColumnMapping(BaseModel):
    """Which columns of a tabular export (CSV, JSONL, Parquet) hold the id, text and metadata.

    ``section_columns`` maps a canonical section (findings, impression, ...) to a column, for
    exports that store sections separately (CT-RATE's ``Findings_EN`` / ``Impressions_EN``).
    """

    model_config = ConfigDict(frozen=True)

    id_column: str | None = Field(None, description="Tabular inputs: column with the report id.")
    text_column: str | None = Field(None, description="Tabular inputs: column with the full report text.")
    section_columns: dict[str, str] = Field(
        default_factory=dict, json_schema_extra={"metavar": "SECTION=COLUMN", "flag": "--section-column"},
        description="Tabular inputs: a column holding one section, e.g. findings=Findings_EN (repeatable).")
    patient_column: str | None = Field(None, description="Tabular inputs: patient id column.")
    study_column: str | None = Field(None, description="Tabular inputs: study id column.")
    date_column: str | None = Field(None, description="Tabular inputs: study date column.")
    exam_column: str | None = Field(None, description="Tabular inputs: column naming the exam (e.g. 'CHEST (PA AND "
                                                      "LAT)'), for reports whose text has no exam line.")

    @field_validator("section_columns")
    @classmethod
    def _known_sections(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [s for s in value if s not in SECTION_NAMES]
        if unknown:
            raise ValueError(f"unknown section {unknown[0]!r}; use one of {', '.join(SECTION_NAMES)}")
        return value

    def resolve(self, columns: list[str]) -> ColumnMapping:
        """Fill unset fields by guessing from the header; explicit settings always win."""
        lower = {c.lower(): c for c in columns}
        update: dict = {}
        if self.id_column is None:
            update["id_column"] = next((lower[g.lower()] for g in ID_COLUMN_GUESSES if g.lower() in lower), None)
        if self.text_column is None and not self.section_columns:
            text = next((lower[g] for g in TEXT_COLUMN_GUESSES if g in lower), None)
            if text:
                update["text_column"] = text
            else:
                update["section_columns"] = _guess_section_columns(columns)
        for field, guesses in (("patient_column", ("patient_id", "subject_id")),
                               ("date_column", ("study_date", "date", "exam_date"))):
            if getattr(self, field) is None:
                update[field] = next((lower[g] for g in guesses if g in lower), None)
        return self.model_copy(update=update)


def _guess_section_columns(columns: list[str]) -> dict[str, str]:
    """Columns named after a section (``findings``, ``Findings_EN``, ``Impressions_EN``...)."""
    found: dict[str, str] = {}
    for column in columns:
        key = column.lower().removesuffix("_en").rstrip("s")
        for section in SECTION_NAMES:
            if key == section.rstrip("s") and section not in found:
                found[section] = column
    return found


class InputSpec(BaseModel):
    """One input of a run: a path, its format and (for tabular formats) its column mapping."""

    model_config = ConfigDict(frozen=True)

    path: str
    #: None: the format could not be told; the input is then one not_a_report reject saying why
    #: (``unknown_format``), and the other inputs are read.
    format: InputFormat | None
    source: str
    unknown_format: str | None = None
    columns: ColumnMapping = Field(default_factory=ColumnMapping)
    #: Modality for this input's reports whose own text does not tell (--modality).
    modality: str | None = None
    #: HL7 v2 inputs: every HL7 input of the run, in order, so that the versions of one accession sent
    #: in several files are told apart whatever the file order (radlite.io.hl7).
    feed: tuple[str, ...] = ()
    #: HL7 v2 inputs: the OBR-24 diagnostic service sections read as radiology (None: radlite.io.hl7's default).
    radiology_sections: tuple[str, ...] | None = None


def detect_format(path: str) -> InputFormat:
    """Format from the file suffix, or FOLDER for a directory."""
    if os.path.isdir(path):
        return InputFormat.FOLDER
    name = path.lower()
    for suffix in sorted(_SUFFIX_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIX_FORMATS[suffix]
    if name.endswith((".gz", ".bz2", ".xz", ".zst")):
        raise ValueError(f"cannot read {path!r}: a single compressed file is not an input format; decompress it, "
                         f"or pack its reports in a .tar.gz")
    raise ValueError(f"cannot tell the format of {path!r}; name it with --format")


def _format_of(path: str, fmt: InputFormat | None) -> dict:
    """The spec fields saying how to read ``path``: the given or detected format, or why none fits."""
    if fmt is not None:
        return {"format": fmt}
    try:
        return {"format": detect_format(path)}
    except ValueError as exc:
        return {"format": None, "unknown_format": str(exc)}


def source_name(path: str) -> str:
    """The source a report is attributed to: the input's absolute path, so two inputs with the same
    base name in different folders never share report ids."""
    return os.path.abspath(path)


def expand_inputs(patterns: list[str], fmt: InputFormat | None, columns: ColumnMapping,
                  source: str | None = None, modality: str | None = None,
                  radiology_sections: tuple[str, ...] | None = None) -> list[InputSpec]:
    """Expand globs into input specs, in sorted order, each input once; a pattern matching nothing is
    an error. ``source`` names the source of a single input (report ids then survive moving it).
    Each HL7 input knows the run's other HL7 inputs (``feed``) and the radiology sections."""
    specs: dict[str, InputSpec] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not all(os.path.lexists(m) for m in matches):
            raise FileNotFoundError(f"input not found: {pattern}")
        for path in matches:
            specs.setdefault(source_name(path), InputSpec(path=path, **_format_of(path, fmt),
                                                          source=source_name(path), columns=columns,
                                                          modality=modality))
    if source is not None and len(specs) != 1:
        raise ValueError(f"--source-name names one input; {len(specs)} were given")
    feed = tuple(s.path for s in specs.values() if s.format is InputFormat.HL7)
    hl7 = {"feed": feed, "radiology_sections": radiology_sections}
    return [spec.model_copy(update=({"source": source} if source is not None else {})
                            | (hl7 if spec.format is InputFormat.HL7 else {})) for spec in specs.values()]
