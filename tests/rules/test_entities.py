"""RadGraph entities from the assertion engine (radlite/rules/entities.py), on reports written for RadLite."""

import pytest

from radlite.evidence_support import supported
from radlite.report import build_report
from radlite.rules.answers import rule_answer
from radlite.rules.entities import report_entities
from radlite.tasks import TASKS


def _entities(text: str) -> list[tuple[str, str]]:
    report = build_report("t", "r", text)
    return [(report.text[f.start:f.end], f.label) for f in report_entities(report)]


@pytest.mark.parametrize("sentence,word,label", [
    ("There is a small left pleural effusion.", "pleural effusion", "OBS-DP"),
    ("No pneumothorax.", "pneumothorax", "OBS-DA"),
    ("Right lower lobe atelectasis versus pneumonia.", "pneumonia", "OBS-U"),
    ("Right lower lobe atelectasis versus pneumonia.", "atelectasis", "OBS-U"),
    ("A pulmonary nodule cannot be excluded.", "nodule", "OBS-U"),
    ("No new focal consolidation.", "consolidation", "OBS-DA"),
    ("The heart is not enlarged.", "enlarged", "OBS-DA"),
    ("Simple cyst in the left kidney. No hydronephrosis.", "hydronephrosis", "OBS-DA"),
    ("No acute intracranial hemorrhage or midline shift.", "midline shift", "OBS-DA"),
])
def test_an_observation_is_labelled_by_what_the_report_asserts(sentence, word, label):
    assert (word, label) in _entities(f"FINDINGS: {sentence}")


def test_anatomy_keeps_its_side_and_position_words_and_a_side_alone_is_anatomy():
    found = _entities("FINDINGS: Right lower lobe consolidation. Small left pleural effusion. The heart is normal.")
    assert found == [("Right lower lobe", "ANAT-DP"), ("consolidation", "OBS-DP"), ("left", "ANAT-DP"),
                     ("pleural effusion", "OBS-DP"), ("heart", "ANAT-DP"), ("normal", "OBS-DP")]


def test_only_the_findings_are_read_not_the_indication_nor_the_restating_impression():
    found = _entities("INDICATION: Rule out pneumonia.\nFINDINGS: Lungs are clear.\nIMPRESSION: No pneumonia.")
    assert found == [("Lungs", "ANAT-DP"), ("clear", "OBS-DP")]
    assert _entities("IMPRESSION: Small right pneumothorax.") == [("right", "ANAT-DP"), ("pneumothorax", "OBS-DP")]


def test_the_rule_answer_is_grounded_and_supported_for_every_entity():
    report = build_report("t", "r", "FINDINGS: Mild cardiomegaly. No pleural effusion. Possible right basilar "
                                    "pneumonia. An endotracheal tube terminates above the carina.")
    instance = TASKS["radiology_ner"].instances(report)[0]
    answer = rule_answer(report, instance)
    rows = TASKS["radiology_ner"].rows(answer.result, instance, report)
    assert len(rows) == len(answer.evidence) >= 6
    for row, evidence in zip(rows, answer.evidence):
        assert report.text[evidence.start:evidence.end] == row["text"]
        assert supported("radiology_ner", row, evidence, report.text) is not False
    assert TASKS["radiology_ner"].parse(answer.raw) == answer.result


def test_a_report_naming_nothing_gets_no_answer_unless_the_rules_are_the_last_entry():
    report = build_report("t", "r", "FINDINGS: See separate dictation.")
    instance = TASKS["radiology_ner"].instances(report)[0]
    assert rule_answer(report, instance) is None
    assert rule_answer(report, instance, last=True).result.entities == []
