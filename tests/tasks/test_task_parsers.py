"""Parsers and normalizers of every task, on the variants seen in real reports and on garbage."""

import pytest

from radlite.report import build_report
from radlite.tasks import TASKS, ParseError, plan_tasks
from radlite.tasks.abnormality import ANSWER_GRAMMAR, CHEXPERT_LABELS, parse_abnormalities
from radlite.tasks.base import clean_output
from radlite.tasks.ner import locate, parse_entities
from radlite.tasks.nli import impression_sentences, parse_nli
from radlite.tasks.rads import NO_RADS, SEVERITY, normalize_rads
from radlite.tasks.staging import parse_m_stage, parse_n_stage
from radlite.tasks.temporal import parse_changes


@pytest.mark.parametrize("raw,label,rank", [
    ("BI-RADS 4a", "BI-RADS 4A", 4),
    ("BIRADS 4A", "BI-RADS 4A", 4),
    ("LR-5", "LI-RADS 5", 5),
    ("LI-RADS 5", "LI-RADS 5", 5),
    ("LR-TR viable", "LI-RADS TR-viable", 5),
    ("LR-TR Nonviable", "LI-RADS TR-nonviable", 1),
    ("ACR TI-RADS TR4", "TI-RADS TR4", 4),
    ("TR4", "TI-RADS TR4", 4),
    ("Lung-RADS 4B", "Lung-RADS 4B", 5),
    ("O-RADS US 3", "O-RADS 3", 3),
    ("NI-RADS 2a", "NI-RADS 2A", 2),
    ("CAD-RADS 3", "CAD-RADS 3", 3),
    ("VI-RADS 5", "VI-RADS 5", 5),
    ("GB-RADS 2", "GB-RADS 2", 2),
    ("PI-RADS category: 4", "PI-RADS 4", 4),
    ("The final assessment is BI-RADS category 5.", "BI-RADS 5", 7),
    ("<think>maybe PI-RADS 2</think>BI-RADS 3", "BI-RADS 3", 3),
])
def test_rads_variants_normalize(raw, label, rank):
    result = normalize_rads(raw)
    assert (result.label, result.severity_rank) == (label, rank)


def test_no_applicable_rads():
    assert normalize_rads("No applicable RADS").label == NO_RADS
    assert normalize_rads("No applicable RADS").system is None


@pytest.mark.parametrize("garbage", ["", "banana", "BI-RADS 9", "RADS", "TR9", "PI-RADS 7"])
def test_rads_garbage_is_a_parse_error(garbage):
    with pytest.raises(ParseError):
        normalize_rads(garbage)


def test_severity_orders_bi_rads_subcategories():
    ranks = SEVERITY["BI-RADS"]
    assert ranks["1"] < ranks["3"] < ranks["4A"] < ranks["4B"] < ranks["4C"] < ranks["5"] < ranks["6"]


@pytest.mark.parametrize("raw,stage", [("N2", "N2"), (" Positive. N staging: N2", "N2"), ("Negative.", "N0"),
                                       ("n1", "N1")])
def test_n_stage(raw, stage):
    assert parse_n_stage(raw) == stage


@pytest.mark.parametrize("raw,stage", [("M0", "M0"), ("M1 (liver metastases)", "M1"), ("No distant metastasis", "M0")])
def test_m_stage(raw, stage):
    assert parse_m_stage(raw) == stage


@pytest.mark.parametrize("fn", [parse_n_stage, parse_m_stage, parse_nli])
def test_classification_garbage_is_a_parse_error(fn):
    with pytest.raises(ParseError):
        fn("the quick brown fox")


@pytest.mark.parametrize("raw,label", [("entailment", "entailment"), ("Contradiction.", "contradiction"),
                                       ("The hypothesis is entailed.", "entailment"), ("neutral", "neutral")])
def test_nli_labels(raw, label):
    assert parse_nli(raw) == label


def test_impression_sentences_split_numbered_lists():
    assert impression_sentences("1. Small effusion. 2. No pneumothorax.") == ["Small effusion.", "No pneumothorax."]
    assert impression_sentences("Stable chest. ___") == ["Stable chest."]


def test_abnormalities_from_v1_json_and_published_text():
    v1 = parse_abnormalities('{"cardiomegaly":"positive","pneumothorax":"negative"}')
    assert v1.labels["cardiomegaly"] == "positive" and v1.labels["pneumothorax"] == "negative"
    assert v1.labels["edema"] == "not_mentioned" and len(v1.labels) == 14
    text = parse_abnormalities("atelectasis: uncertain\npleural effusion: positive\nfracture: absent")
    assert (text.labels["atelectasis"], text.labels["pleural effusion"], text.labels["fracture"]) == \
        ("uncertain", "positive", "negative")
    lists = parse_abnormalities('{"positive": ["edema"], "uncertain": [], "negative": ["fracture"]}')
    assert lists.labels["edema"] == "positive" and lists.labels["fracture"] == "negative"


@pytest.mark.parametrize("garbage", ["nothing to see", '{"banana": "positive"}', '{"edema": "maybe"}', "[1,2]"])
def test_abnormality_garbage_is_a_parse_error(garbage):
    with pytest.raises(ParseError):
        parse_abnormalities(garbage)


def test_abnormality_grammar_lists_each_label_at_most_once():
    assert ANSWER_GRAMMAR.count("r0 ::=") == 1
    assert all(f'\\"{label}\\"' in ANSWER_GRAMMAR for label in CHEXPERT_LABELS)


def test_entities_from_json_and_lines_with_offsets():
    text = "Small left pleural effusion. No pneumothorax. Effusion is small."
    result = parse_entities('[{"text": "pleural", "label": "ANAT-DP"}, {"text": "effusion", "label": "OBS-DP"},'
                            ' {"text": "pneumothorax", "label": "OBS-DA"}, {"text": "effusion", "label": "OBS-DP"}]')
    spans = locate(result.entities, text)
    assert [text[s:e].lower() for s, e in spans] == ["pleural", "effusion", "pneumothorax", "effusion"]
    assert spans[3][0] > spans[1][0]  # repeated mention maps to the later occurrence
    lines = parse_entities("effusion (OBS-DP)\nANAT-DP: left lung")
    assert [(e.text, e.label) for e in lines.entities] == [("effusion", "OBS-DP"), ("left lung", "ANAT-DP")]
    assert parse_entities("[]").entities == []
    assert locate(parse_entities('[{"text": "spleen", "label": "ANAT-DP"}]').entities, text) == [(None, None)]
    with pytest.raises(ParseError):
        parse_entities("lorem ipsum dolor")


def test_temporal_changes_from_json_and_text():
    assert [(c.finding, c.change) for c in parse_changes('[{"finding": "effusion", "change": "worsened"}]').changes] \
        == [("effusion", "worsened")]
    text = parse_changes("Pleural effusion: increased\nPneumothorax resolved")
    assert [c.change for c in text.changes] == ["worsened", "resolved"]
    assert parse_changes("[]").changes == []
    with pytest.raises(ParseError):
        parse_changes("lorem ipsum")


def test_clean_output_strips_thinking_and_chatml():
    assert clean_output("<think>hmm\nlong</think>\nBI-RADS 2<|im_end|>") == "BI-RADS 2"


def test_planner_applies_tasks_where_they_apply():
    cxr = build_report("s", "1", "EXAMINATION: CHEST (PA AND LAT)\nCOMPARISON: Prior from ___.\n"
                                  "FINDINGS: Small effusion, increased.\nIMPRESSION: Effusion. No pneumothorax.")
    ct = build_report("s", "2", "EXAM: CT ABDOMEN\nHISTORY: colon cancer staging\nFINDINGS: Liver metastases.")
    mammo = build_report("s", "3", "EXAMINATION: MAMMOGRAM\nFINDINGS: Negative.\nCOMPARISON: None.")
    names = lambda r: [i.task for i in plan_tasks(r, None).instances]  # noqa: E731
    assert names(cxr) == ["impression_generation", "rads_assignment", "abnormality_detection", "temporal_comparison",
                          "radiology_ner", "radiology_nli", "radiology_nli"]
    assert names(ct) == ["impression_generation", "rads_assignment", "n_staging", "m_staging", "radiology_ner"]
    assert names(mammo) == ["impression_generation", "rads_assignment", "radiology_ner"]
    assert [i.task for i in plan_tasks(mammo, ("n_staging",)).instances] == ["n_staging"]


def test_every_task_has_a_table_metric_and_decoding():
    assert len(TASKS) == 9
    for task in TASKS.values():
        assert task.table and task.answer_format().max_tokens > 0


def test_answer_format_round_trips_through_the_parser():
    from radlite.tasks.abnormality import AbnormalityResult
    from radlite.tasks.ner import Entity, NerResult
    from radlite.tasks.temporal import Change, TemporalResult

    labels = {name: "not_mentioned" for name in CHEXPERT_LABELS}
    labels.update({"edema": "positive", "fracture": "negative"})
    cases = {
        "rads_assignment": normalize_rads("BI-RADS 4b"),
        "abnormality_detection": AbnormalityResult(labels=labels),
        "radiology_ner": NerResult(entities=[Entity(text="left lung", label="ANAT-DP")]),
        "temporal_comparison": TemporalResult(changes=[Change(finding="effusion", change="improved")]),
    }
    for name, result in cases.items():
        task = TASKS[name]
        assert task.parse(task.answer(result)) == result
        assert task.score(task.parse(task.answer(result)), result) == 1.0
        assert task.score(None, result) == 0.0


def test_impression_sentences_never_split_a_decimal_or_an_abbreviation():
    assert impression_sentences("1. A 2.0 cm mass, approx. 3 cm vs. prior. 2. No effusion.") == [
        "A 2.0 cm mass, approx. 3 cm vs. prior.", "No effusion."]
