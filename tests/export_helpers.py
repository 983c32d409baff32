"""One OUT for the export tests, built once per session: sample_data plus the synthetic HL7 batch, with
rule-routed tasks only (no model runs)."""

import os

from conftest import ROOT, SAMPLE_REPORTS

from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs

HL7_BATCH = os.path.join(ROOT, "tests", "fixtures", "hl7", "synthetic-oru-batch.hl7")
RULE_TASKS = "abnormality_detection,temporal_comparison"


def build_export_out(tmp_path_factory) -> str:
    """OUT of one run, built on the first call of the session and shared by every later one."""
    out = os.path.join(str(tmp_path_factory.getbasetemp()), "export-out")
    if not os.path.exists(os.path.join(out, "manifest.json")):
        inputs = expand_inputs([os.path.join(SAMPLE_REPORTS, "*"), HL7_BATCH], None, ColumnMapping())
        run_etl(RunConfig(inputs=inputs, out=out, tasks=TaskOptions(tasks=RULE_TASKS)))
    return out
