"""Real-text gold: the loader's checks, the agreement figures, and the committed IU gold files.

The unit tests run on a hand-written fixture (tests/fixtures/gold/, synthetic reports in Open-i's
CSV layout, not IU text). The last tests load the committed gold against the real IU X-ray CSV at
../shared/data: they fail in CI when it is missing and skip elsewhere, like
test_real_data_regression.py.
"""

import json
import math
import os

import pytest
from conftest import ROOT

from benchmarks.gold_iu import micro_f1_interval, overlap_matches
from training.eval.gold import (
    NER_SIZE,
    SLICE_SIZE,
    Entity,
    GoldError,
    NerGold,
    TemporalGold,
    TemporalStatement,
    agreement,
    agreement_subset,
    draw_slice,
    file_agreement,
    kappa,
    load_gold,
    read_texts,
)
from training.eval.negbio import split_reports

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "gold")
CSV = os.path.join(FIXTURE, "handwritten_reports.csv")
TEST_LIST = os.path.join(FIXTURE, "handwritten_testset.txt")
TEXTS = read_texts(CSV)
COMMON = {"split": "validation", "annotator": "annotator-T", "pass": 1}


def span(uid: str, words: str, after: int = 0) -> tuple[int, int]:
    start = TEXTS[uid].index(words, after)
    return start, start + len(words)


def entity(uid: str, words: str, label: str) -> dict:
    start, end = span(uid, words)
    return {"start": start, "end": end, "label": label}


def ner_line(uid: str, entities: list[dict], **extra) -> dict:
    return {"uid": uid, **COMMON, **extra, "entities": entities}


def write_lines(tmp_path, lines: list[dict]) -> str:
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


REPORT_1 = [entity("1", "heart", "ANAT-DP"), entity("1", "normal", "OBS-DP"),
            entity("1", "pleural effusion", "OBS-DA"), entity("1", "pneumothorax", "OBS-DA"),
            entity("1", "atelectasis", "OBS-U")]


def test_load_gold_joins_each_line_to_the_words_its_offsets_name(tmp_path):
    loaded = load_gold("ner", write_lines(tmp_path, [ner_line("1", REPORT_1)]), CSV, TEST_LIST)
    line, text = loaded[0]
    assert isinstance(line, NerGold) and line.pass_ == 1
    assert [(text[e.start:e.end], e.label) for e in line.entities] == [
        ("heart", "ANAT-DP"), ("normal", "OBS-DP"), ("pleural effusion", "OBS-DA"), ("pneumothorax", "OBS-DA"),
        ("atelectasis", "OBS-U")]


def test_load_gold_refuses_a_report_on_the_test_list(tmp_path):
    path = write_lines(tmp_path, [ner_line("9", [entity("9", "lungs", "ANAT-DP")])])
    with pytest.raises(GoldError, match="uid 9 is on NegBio's test list"):
        load_gold("ner", path, CSV, TEST_LIST)


@pytest.mark.parametrize(("uid", "bad", "message"), [
    ("1", {"start": 5, "end": 5, "label": "ANAT-DP"}, "out of bounds or empty"),
    ("1", {"start": 0, "end": 10_000, "label": "ANAT-DP"}, "out of bounds"),
    ("1", {"start": span("1", " heart")[0], "end": span("1", " heart")[1], "label": "ANAT-DP"}, "whitespace"),
    ("2", {"start": span("2", "XXXX")[0], "end": span("2", "XXXX")[1], "label": "OBS-DP"}, "de-identified"),
    ("1", {**entity("1", "heart", "ANAT-DP"), "label": "FINDING"}, "not a ner gold line"),
    ("1", {**entity("1", "heart", "ANAT-DP"), "text": "heart"}, "not a ner gold line"),
])
def test_load_gold_refuses_a_span_nobody_can_use(tmp_path, uid, bad, message):
    with pytest.raises(GoldError, match=message):
        load_gold("ner", write_lines(tmp_path, [ner_line(uid, [bad])]), CSV, TEST_LIST)


def test_load_gold_refuses_unknown_uids_and_a_report_annotated_twice_in_one_pass(tmp_path):
    with pytest.raises(GoldError, match="uid 77 is not in"):
        load_gold("ner", write_lines(tmp_path, [ner_line("77", [])]), CSV, TEST_LIST)
    twice = [ner_line("1", REPORT_1), ner_line("1", REPORT_1[:2])]
    with pytest.raises(GoldError, match="appears twice"):
        load_gold("ner", write_lines(tmp_path, twice), CSV, TEST_LIST)
    second_pass = [ner_line("1", REPORT_1), ner_line("1", REPORT_1[:2], annotator="annotator-U", **{"pass": 2})]
    assert len(load_gold("ner", write_lines(tmp_path, second_pass), CSV, TEST_LIST)) == 2


def test_temporal_gold_checks_finding_and_cue_spans(tmp_path):
    finding, cue = span("2", "cardiomegaly"), span("2", "Stable")
    good = {"uid": "2", **COMMON, "has_comparison": True, "statements": [
        {"finding_start": finding[0], "finding_end": finding[1], "change": "unchanged", "cue_start": cue[0],
         "cue_end": cue[1]}]}
    (line, text), = load_gold("temporal", write_lines(tmp_path, [good]), CSV, TEST_LIST)
    statement = line.statements[0]
    assert (text[statement.finding_start:statement.finding_end], text[statement.cue_start:statement.cue_end]) == (
        "cardiomegaly", "Stable")
    bad = {**good, "statements": [{**good["statements"][0], "cue_end": cue[0]}]}
    with pytest.raises(GoldError, match="empty"):
        load_gold("temporal", write_lines(tmp_path, [bad]), CSV, TEST_LIST)
    with pytest.raises(GoldError, match="not a temporal gold line"):
        load_gold("temporal", write_lines(tmp_path, [{**good, "statements": [
            {**good["statements"][0], "change": "better"}]}]), CSV, TEST_LIST)


def test_kappa_matches_the_hand_computed_value():
    # observed agreement 3/4, chance (0.5 * 0.25 + 0.5 * 0.75) = 1/2, so kappa = (3/4 - 1/2) / (1 - 1/2)
    assert kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx(0.5)
    assert kappa(["a", "a"], ["a", "a"]) is None


def ner_pass(entities: list[dict], annotator: str, number: int) -> NerGold:
    return NerGold(uid="1", split="validation", annotator=annotator, entities=[Entity(**e) for e in entities],
                   **{"pass": number})


def test_ner_agreement_is_perfect_for_identical_passes_and_drops_for_one_changed_label():
    first = [ner_pass(REPORT_1, "annotator-A", 1)]
    same = agreement("ner", first, [ner_pass(REPORT_1, "annotator-B", 2)], TEXTS)
    assert (same.reports, same.token_kappa, same.span_f1) == (1, pytest.approx(1.0), pytest.approx(1.0))
    changed = REPORT_1[:4] + [{**REPORT_1[4], "label": "OBS-DP"}]
    other = agreement("ner", first, [ner_pass(changed, "annotator-B", 2)], TEXTS)
    assert other.span_f1 == pytest.approx(2 * 4 / 10)
    assert 0 < other.token_kappa < 1


def statement(uid: str, finding: str, change: str, cue: str) -> TemporalStatement:
    (fs, fe), (cs, ce) = span(uid, finding), span(uid, cue)
    return TemporalStatement(finding_start=fs, finding_end=fe, change=change, cue_start=cs, cue_end=ce)


def temporal_pass(uid: str, has_comparison: bool, statements: list, number: int) -> TemporalGold:
    return TemporalGold(uid=uid, split="validation", annotator=f"annotator-{number}", has_comparison=has_comparison,
                        statements=statements, **{"pass": number})


def test_temporal_agreement_matches_findings_and_scores_their_change_labels():
    first = [temporal_pass("1", False, [], 1),
             temporal_pass("2", True, [statement("2", "cardiomegaly", "unchanged", "Stable"),
                                       statement("2", "pleural effusion", "new", "New")], 1)]
    second = [temporal_pass("1", False, [], 2),
              temporal_pass("2", True, [statement("2", "cardiomegaly", "unchanged", "Stable"),
                                        statement("2", "right pleural effusion", "worsened", "New")], 2)]
    result = agreement("temporal", first, second)
    assert (result.reports, result.matched_findings, result.finding_f1) == (2, 2, pytest.approx(1.0))
    assert result.comparison_kappa == pytest.approx(1.0)
    # changes (unchanged, new) vs (unchanged, worsened): observed 1/2, chance 1/4, kappa (1/2 - 1/4) / (3/4)
    assert result.change_kappa == pytest.approx(1 / 3)


def test_the_drawn_slice_and_agreement_subset_do_not_depend_on_input_order():
    uids = [str(n) for n in range(1, 501)]
    assert draw_slice(uids, size=30) == draw_slice(list(reversed(uids)), size=30)
    subset = agreement_subset(draw_slice(uids, size=30))
    assert len(subset) == 6 and set(subset) <= set(draw_slice(uids, size=30))


# --- the committed IU X-ray gold, against the real CSV -------------------------------------------------------

DATA = os.environ.get("RADLITE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
GOLD = os.path.join(ROOT, "training", "gold", "iu-xray")


@pytest.fixture(scope="module")
def real_gold():
    needed = [os.path.join(DATA, "iu-xray", "indiana_reports.csv"), os.path.join(DATA, "negbio", "openi-testset.txt")]
    missing = [p for p in needed if not os.path.exists(p)]
    if missing:
        message = f"the IU gold test needs {', '.join(os.path.relpath(p, ROOT) for p in missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must have ../shared/data", pytrace=False)
        pytest.skip(message)
    csv_path = needed[0]
    return {task: load_gold(task, os.path.join(GOLD, f"{task}.jsonl"), csv_path) for task in ("ner", "temporal")}


def test_the_iu_gold_is_the_recorded_fixed_seed_draw_of_validation_reports(real_gold):
    validation = [row["uid"] for _, _, row in split_reports(DATA, "validation")]
    drawn = draw_slice(validation)
    assert [line.uid for line, _ in real_gold["temporal"]] == drawn
    assert [line.uid for line, _ in real_gold["ner"]] == drawn[:NER_SIZE]
    assert len(drawn) == SLICE_SIZE
    assert {(line.annotator, line.pass_) for task in real_gold.values() for line, _ in task} == {("annotator-A", 1)}


def test_iu_ner_entities_sit_in_findings_or_impression(real_gold):
    for line, text in real_gold["ner"]:
        body = min(text.index(h) for h in ("FINDINGS:", "IMPRESSION:") if h in text)
        assert line.entities, f"uid {line.uid} has no entities"
        assert all(e.start >= body for e in line.entities), f"uid {line.uid}: an entity outside the report body"


def test_iu_temporal_statements_only_where_the_report_compares(real_gold):
    lines = [line for line, _ in real_gold["temporal"]]
    assert all(line.has_comparison for line in lines if line.statements)
    assert sum(line.has_comparison for line in lines) > 0 and sum(not line.has_comparison for line in lines) > 0


def test_agreement_subset_is_a_fifth_of_each_task_and_recomputes(real_gold):
    with open(os.path.join(GOLD, "agreement-subset.json")) as fh:
        subset = json.load(fh)
    for task, loaded in real_gold.items():
        uids = [line.uid for line, _ in loaded]
        assert subset[task] == agreement_subset(uids)
        assert len(subset[task]) == math.ceil(0.2 * len(uids)) and set(subset[task]) <= set(uids)


def test_the_gold_benchmark_matches_each_gold_span_once_and_scores_micro_f1():
    gold = [(0, 5, "ANAT-DP"), (10, 20, "OBS-DA")]
    predicted = [(0, 3, "ANAT-DP"), (2, 5, "ANAT-DP"), (12, 15, "OBS-DP")]
    assert overlap_matches(predicted, gold) == [((0, 3, "ANAT-DP"), (0, 5, "ANAT-DP"))]
    assert len(overlap_matches(predicted, gold, same_label=False)) == 2
    point, low, high = micro_f1_interval([(1, 3, 2), (2, 2, 2), (0, 1, 3)])
    assert point == pytest.approx(2 * 3 / (6 + 7)) and low <= point <= high


def test_file_agreement_reads_pass_2_from_its_own_file(tmp_path):
    first = tmp_path / "pass1.jsonl"
    second = tmp_path / "pass2.jsonl"
    first.write_text(json.dumps(ner_line("1", REPORT_1)) + "\n")
    second.write_text(json.dumps(ner_line("1", REPORT_1[:4], annotator="annotator-B", **{"pass": 2})) + "\n")
    result = file_agreement("ner", [str(first), str(second)], CSV, TEST_LIST)
    assert (result.reports, result.span_f1) == (1, pytest.approx(2 * 4 / 9))


def test_the_blind_second_pass_covers_exactly_the_agreement_subset(real_gold):
    with open(os.path.join(GOLD, "agreement-subset.json")) as fh:
        subset = json.load(fh)
    csv_path = os.path.join(DATA, "iu-xray", "indiana_reports.csv")
    for task in ("ner", "temporal"):
        second = [line for line, _ in load_gold(task, os.path.join(GOLD, f"{task}-pass2.jsonl"), csv_path)]
        assert [line.uid for line in second] == subset[task]
        assert {(line.annotator, line.pass_) for line in second} == {("annotator-C", 2)}
        paired = agreement(task, [line for line, _ in real_gold[task]], second, read_texts(csv_path))
        assert paired.reports == len(subset[task])
