"""Every value points at the words it comes from: model answers are located in the report text."""

import zipfile

import yaml
from conftest import run_cli

from radlite.report import build_report
from radlite.store import OutputStore
from radlite.tasks import TASKS
from radlite.tasks.abnormality import CHEXPERT_LABELS, AbnormalityResult
from radlite.tasks.ner import Entity, NerResult
from radlite.tasks.qa import QaResult, Question
from radlite.tasks.rads import normalize_rads
from radlite.tasks.staging import StageResult
from radlite.tasks.temporal import Change, TemporalResult

REPORT = build_report("t", "r", "EXAMINATION: CT CHEST\nCOMPARISON: CT from May.\nFINDINGS: New small right pleural "
                                "effusion. Enlarged subcarinal lymph node. N2 disease.\nIMPRESSION: Lung-RADS 4B.")


def _quotes(task, result, instance=None):
    instance = instance or TASKS[task].instances(REPORT)[0]
    return [(e.grounded, REPORT.text[e.start:e.end] if e.grounded else None) if e else None
            for e in TASKS[task].ground(result, instance, REPORT)]


def test_rads_evidence_is_the_stated_category_or_not_grounded():
    assert _quotes("rads_assignment", normalize_rads("Lung-RADS 4B")) == [(True, "Lung-RADS 4B")]
    assert _quotes("rads_assignment", normalize_rads("BI-RADS 5")) == [(False, None)]
    assert _quotes("rads_assignment", normalize_rads("No applicable RADS")) == [None]


def test_staging_evidence_is_the_stated_stage_or_the_sentence_about_it():
    assert _quotes("n_staging", StageResult(n_stage="N2")) == [(True, "N2")]
    assert _quotes("n_staging", StageResult(n_stage="N1")) == [(True, " Enlarged subcarinal lymph node")]
    assert _quotes("m_staging", StageResult(m_stage="M1")) == [(False, None)]


def test_abnormality_evidence_per_label():
    labels = dict.fromkeys(CHEXPERT_LABELS, "not_mentioned") | {"pleural effusion": "positive",
                                                                 "pneumothorax": "negative"}
    quotes = dict(zip(CHEXPERT_LABELS, _quotes("abnormality_detection", AbnormalityResult(labels=labels)), strict=True))
    assert quotes["pleural effusion"] == (True, "pleural effusion")
    assert quotes["pneumothorax"] == (False, None)  # the model says negative; the report never mentions it
    assert quotes["edema"] is None


def test_temporal_entities_and_qa_evidence_are_their_words_in_the_report():
    changes = TemporalResult(changes=[Change(finding="right pleural effusion", change="new"),
                                      Change(finding="interband opacity", change="unchanged")])
    assert _quotes("temporal_comparison", changes) == [(True, "right pleural effusion"), (False, None)]
    entities = NerResult(entities=[Entity(text="lymph node", label="ANAT-DP"), Entity(text="spleen", label="ANAT-DP")])
    assert _quotes("radiology_ner", entities) == [(True, "lymph node"), (False, None)]
    free, choice = (TASKS["radiology_qa"].instances(REPORT, (q,))[0] for q in (
        Question(id="q", question="What is new?"), Question(id="c", question="Effusion?", choices=("yes", "no"))))
    assert _quotes("radiology_qa", QaResult(answer="small right pleural effusion"), free) == [
        (True, "small right pleural effusion")]
    assert _quotes("radiology_qa", QaResult(answer="yes"), choice) == [None]


def test_mimic_portable_chest_radiographs_are_planned_for_abnormality_detection(tmp_path):
    archive = tmp_path / "mimic.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        exams = ["CHEST (PORTABLE AP)", "CHEST (PA AND LAT)", "PORTABLE CHEST", "CHEST (PORTABLE AP)"]
        for i, exam in enumerate(exams):
            zf.writestr(f"files/p10/p1000000{i}/s5000000{i}.txt", f"                                 FINAL REPORT\n"
                        f"EXAMINATION:  {exam}\n\nINDICATION:  Dyspnea.\n\nFINDINGS:  Small left effusion. "
                        f"No pneumothorax.\n\nIMPRESSION:  Small left pleural effusion.\n")
    routing = tmp_path / "rules.yaml"
    routing.write_text(yaml.safe_dump({"name": "rules-only", "models": {"rules": {"kind": "rules"}},
                                       "tasks": {"abnormality_detection": "rules"}}))
    result = run_cli("run", archive, "--out", tmp_path / "out", "--routing", routing, "--quiet")
    assert result.exit_code == 0, result.output
    store = OutputStore(str(tmp_path / "out"))
    reports = store.read_table("reports").to_pylist()
    assert len(reports) == 4 and all(r["tasks_planned"] == ["abnormality_detection"] for r in reports)
    assert all(any(s.startswith("rads_assignment: not in routing table") for s in r["tasks_skipped"]) for r in reports)
    rows = [r for r in store.read_table("abnormalities").to_pylist() if r["finding"] == "pleural effusion"]
    assert len(rows) == 4 and all(r["status"] == "positive" and r["grounded"] for r in rows)
    assert all(r["evidence"] in ("effusion", "pleural effusion") for r in rows)
