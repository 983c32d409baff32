"""The options of a run, one class per concern, each field declared once with its default and doc.

The ``radlite run`` flags are generated from these classes (radlite_cli.options), a Python caller builds
them directly, and the ``runs`` row stores them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from radlite.io.hl7 import RADIOLOGY_SECTIONS
from radlite.io.inputs import ColumnMapping, InputFormat
from radlite.io.records import IngestLimits
from radlite.report import Modality
from radlite.timeline.pairing import TimelineOptions


class InputOptions(BaseModel):
    """How every input is read."""

    model_config = ConfigDict(frozen=True)

    format: InputFormat | None = Field(None, description="Input format for all inputs (default: detected from "
                                                         "each name).")
    modality: Modality | None = Field(None, description="Modality of reports whose text does not tell (no exam "
                                                         "line, no --exam-column), e.g. XR for a chest radiograph "
                                                         "export.")
    source_name: str | None = Field(None, description="Name the source of a single input: report ids derive "
                                                      "from it instead of the input's absolute path, so they "
                                                      "survive moving the input.")
    hl7_radiology_sections: tuple[str, ...] = Field(
        RADIOLOGY_SECTIONS, json_schema_extra={"metavar": "CODE", "flag": "--hl7-radiology-section"},
        description="HL7 v2 inputs: an OBR-24 diagnostic service section (HL7 table 0074) whose results are "
                    "radiology reports (repeatable; replaces the default). Other table 0074 sections are rejected "
                    "as hl7_not_radiology.")


class TaskOptions(BaseModel):
    """Which tasks run, on which models, with which registry questions."""

    model_config = ConfigDict(frozen=True)

    tasks: str = Field("auto", description="'auto' (each task where it applies), 'none' (ingest only), or a comma "
                                           "list of task names.")
    routing: str = Field("embedded", description="Routing table: a built-in name or a YAML file.")
    models_dir: str | None = Field(None, description="Where routing entries' GGUF file names are looked up.")
    questions: str | None = Field(None, description="YAML file of registry questions for radiology_qa.")
    allow_unvalidated: bool = Field(False, description="Run a routing table whose files do not match its manifest.")


class RunnerOptions(BaseModel):
    """Where the Beam graph runs."""

    model_config = ConfigDict(frozen=True)

    runner: str = Field("direct", description="direct: this machine (--workers processes); dask: the Dask "
                                              "cluster at --dask-address; any other name is given to Beam as its "
                                              "runner (e.g. apache_beam.runners.dask.dask_runner.DaskRunner).")
    dask_address: str | None = Field(None, description="Dask scheduler address for --runner dask, e.g. "
                                                       "tcp://10.0.0.5:8786.")
    workers: int = Field(1, ge=1, description="Worker processes (Beam multi-process direct runner).")

    @model_validator(mode="after")
    def _dask_needs_an_address(self) -> RunnerOptions:
        if self.runner == "dask" and not self.dask_address:
            raise ValueError("--runner dask needs --dask-address (e.g. tcp://127.0.0.1:8786)")
        return self


class OutputOptions(BaseModel):
    """What is (re)processed, and what the run reports and checks."""

    model_config = ConfigDict(frozen=True)

    full: bool = Field(False, description="Reprocess everything, not only reports new since the last run.")
    max_reject_rate: float | None = Field(None, ge=0, le=1, description="Exit with code 3 when rejected/read "
                                                                         "exceeds this fraction.")
    max_model_error_rate: float | None = Field(0.05, ge=0, le=1, description="Exit with code 4 when the task "
                                               "instances whose model call failed exceed this fraction of those "
                                               "sent to a model (their rows are committed; the next run retries "
                                               "them).")
    quiet: bool = Field(False, description="Print nothing on success (for cron); errors still go to stderr.")
    summary_json: str | None = Field(None, description="Write the run summary as JSON to this file.")


#: The option classes ``radlite run`` exposes, in --help order.
RUN_OPTION_CLASSES = (TaskOptions, InputOptions, ColumnMapping, IngestLimits, OutputOptions, RunnerOptions,
                      TimelineOptions)
