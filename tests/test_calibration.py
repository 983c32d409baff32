"""radlite/calibration.py: a value's confidence is its table's calibration map of its raw score, a
value below the table's min_confidence is withheld, and the shipped maps apply without scikit-learn."""

import json
import subprocess
import sys

import numpy as np
import pytest

from radlite.calibration import Calibration, CalibrationMap, calibrated_rows
from radlite.kinds import get_kind
from radlite.kinds.cascade import answer_instances
from radlite.report import build_report
from radlite.routing import load_routing
from radlite.tasks import TASKS

MAP = CalibrationMap(x=[0.25, 0.5, 0.75, 1.0], y=[0.3, 0.6, 0.8, 0.95], n=40, basis="hand-written for this test")


def test_a_values_confidence_is_its_tables_map_of_its_raw_score():
    calibration = Calibration(tables={"abnormalities": MAP})
    rows = [("abnormalities", {"confidence": raw, "withheld": False, "withheld_reason": None})
            for raw in (0.25, 0.6, 1.0, None)]
    out = [row["confidence"] for _, row in calibrated_rows(rows, calibration, {})]
    assert out == [0.3, pytest.approx(float(np.interp(0.6, MAP.x, MAP.y))), 0.95, None]
    # a table with no map keeps its raw score
    assert calibrated_rows([("nli", {"confidence": 0.42})], calibration, {})[0][1]["confidence"] == 0.42


def test_a_value_below_its_tables_min_confidence_is_withheld_and_a_withheld_value_keeps_its_reason():
    calibration = Calibration(tables={"abnormalities": MAP})
    low = {"confidence": 0.25, "withheld": False, "withheld_reason": None}
    ungrounded = {"confidence": 0.25, "withheld": True, "withheld_reason": "ungrounded: its words are not there"}
    (_, a), (_, b), (_, c) = calibrated_rows([("abnormalities", low), ("abnormalities", ungrounded),
                                              ("abnormalities", {**low, "confidence": 0.75})],
                                             calibration, {"abnormalities": 0.5})
    assert a["withheld"] and a["withheld_reason"].startswith("low confidence: calibrated confidence 0.30")
    assert b["withheld_reason"].startswith("ungrounded")
    assert c["confidence"] == 0.8 and not c["withheld"]


def test_rows_on_the_answer_path_carry_calibrated_confidence_and_low_ones_are_withheld(tmp_path):
    """The rules answer a chest report; the routing's calibration maps each cue's raw score, and the
    findings the report never mentions (raw 0.25 -> 0.3) fall below min_confidence 0.5."""
    path = tmp_path / "calibration.json"
    path.write_text(Calibration(tables={"abnormalities": MAP}).model_dump_json())
    routing = load_routing("embedded", verify=False)
    routing = routing.model_copy(update={"manifest": routing.manifest.model_copy(
        update={"calibration": str(path), "min_confidence": {"abnormalities": 0.5}})})
    text = "EXAMINATION: CHEST PA AND LATERAL\nFINDINGS: No pneumothorax. Possible pneumonia. Cardiomegaly."
    report = build_report("src", "r1", text)
    work = answer_instances(routing, report, TASKS["abnormality_detection"].instances(report),
                            lambda key: get_kind(routing.models[key].kind).load(routing.models[key]), "run-t")
    rows = {row["finding"]: row for _, row in work.rows}
    assert rows["pneumothorax"]["confidence"] == 0.95 and not rows["pneumothorax"]["withheld"]  # stated
    assert rows["pneumonia"]["confidence"] == 0.6  # hedged
    assert rows["cardiomegaly"]["confidence"] == 0.8  # plain
    assert rows["edema"]["status"] == "not_mentioned" and rows["edema"]["confidence"] == 0.3
    assert rows["edema"]["withheld_reason"].startswith("low confidence")


def test_the_shipped_maps_load_and_apply_without_scikit_learn():
    """In a fresh interpreter where importing scikit-learn fails, the embedded routing's maps still apply."""
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import json\n"
            "from radlite.routing import load_routing\n"
            "from radlite.calibration import load_calibration\n"
            "routing = load_routing('embedded', verify=False)\n"
            "calibration = load_calibration(routing.manifest.calibration)\n"
            "print(json.dumps({t: calibration.confidence(t, 0.6) for t in calibration.tables}))\n"
            "print(json.dumps(routing.manifest.min_confidence))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    applied, minimums = (json.loads(line) for line in done.stdout.splitlines())
    assert applied and set(minimums) == set(applied)
    assert all(0 <= v <= 1 for v in applied.values())
