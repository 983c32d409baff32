"""QA and NLI gold: the loader's checks and the agreement figures, on hand-written reports; then the
real gold files against the IU X-ray data (skipped where the data is missing, failing in CI)."""

import json
import os

import pytest
from conftest import ROOT

from benchmarks.gold_qa_nli import kind_default, qa_score
from radlite.tasks.nli import impression_sentences
from training.eval.gold import (
    GoldError,
    NliAgreement,
    QaAgreement,
    agreement,
    agreement_items,
    draw_qa_nli_uids,
    load_gold,
    read_texts,
    section_span,
)

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "gold-handwritten")
CSV = os.path.join(FIXTURE, "iu-xray", "indiana_reports.csv")
TEST_LIST = os.path.join(FIXTURE, "negbio", "openi-testset.txt")
TEXTS = read_texts(CSV)
DATA = os.environ.get("RADLITE_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
GOLD = os.path.join(ROOT, "training", "gold", "iu-xray")


def span(uid: str, words: str, after: str = "FINDINGS:") -> dict:
    """Offsets of the first ``words`` after ``after`` in a fixture report."""
    text = TEXTS[uid]
    start = text.index(words, text.index(after))
    return {"start": start, "end": start + len(words)}


def findings(uid: str) -> dict:
    text = TEXTS[uid]
    start = text.index("FINDINGS: ") + len("FINDINGS: ")
    return {"premise_start": start, "premise_end": text.index("\n", start)}


def qa_line(uid="10", question_id="side-1", kind="side", answer=None, evidence=None, pass_=1, **extra) -> dict:
    line = {"uid": uid, "split": "validation", "annotator": "annotator-B", "pass": pass_, "question_id": question_id,
            "question": "On which side is the effusion?", "kind": kind,
            "answer": answer or {"type": "span", **span(uid, "right")}, **extra}
    if evidence:
        line["evidence_start"], line["evidence_end"] = evidence["start"], evidence["end"]
    return line


def nli_line(uid="10", pair_index=0, hypothesis=None, label="entailment", pass_=1, **extra) -> dict:
    return {"uid": uid, "split": "validation", "annotator": "annotator-B", "pass": pass_, "pair_index": pair_index,
            **findings(uid), "hypothesis": hypothesis or span(uid, "Small right pleural effusion.", "IMPRESSION:"),
            "label": label, **extra}


def load(tmp_path, task: str, lines: list[dict]):
    path = tmp_path / f"{task}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return load_gold(task, str(path), CSV, TEST_LIST)


def test_qa_answers_point_at_the_report_words(tmp_path):
    loaded = load(tmp_path, "qa", [
        qa_line(),
        qa_line(question_id="presence-2", kind="presence", answer={"type": "no"},
                evidence=span("10", "No pneumothorax")),
        qa_line(question_id="device-3", kind="device", answer={"type": "not_stated"}),
        qa_line(uid="11", question_id="size-1", kind="size", answer={"type": "span", **span("11", "7 mm")}),
    ])
    words = [text[line.answer.start:line.answer.end] if line.answer.type == "span"
             else text[line.evidence_start:line.evidence_end] if line.answer.type in ("yes", "no") else None
             for line, text in loaded]
    assert words == ["right", "No pneumothorax", None, "7 mm"]
    assert [line.key() for line, _ in loaded] == ["10:side-1", "10:presence-2", "10:device-3", "11:size-1"]


@pytest.mark.parametrize("line, message", [
    (qa_line(uid="12", answer={"type": "not_stated"}), "test list"),
    (qa_line(answer={"type": "span", "start": 5, "end": 5}), "out of bounds or empty"),
    (qa_line(answer={"type": "span", "start": span("10", "right")["start"] - 1, "end": span("10", "right")["end"]}),
     "whitespace"),
    (qa_line(uid="11", answer={"type": "span", **span("11", "7 mm XXXX nodule")}), "de-identified"),
    (qa_line(answer={"type": "yes"}), "evidence_start/evidence_end are required"),
    (qa_line(answer={"type": "not_stated"}, evidence=span("10", "No pneumothorax")), "not allowed otherwise"),
    (qa_line(kind="colour"), "not a qa gold line"),
    (qa_line(answer={"type": "maybe"}), "not a qa gold line"),
])
def test_qa_refuses_an_untrustworthy_line(tmp_path, line, message):
    with pytest.raises(GoldError, match=message):
        load(tmp_path, "qa", [line])


def test_qa_refuses_the_same_question_twice_in_a_pass(tmp_path):
    with pytest.raises(GoldError, match="10:side-1 appears twice"):
        load(tmp_path, "qa", [qa_line(), qa_line(answer={"type": "not_stated"})])
    assert len(load(tmp_path, "qa", [qa_line(), qa_line(pass_=2, annotator="annotator-C")])) == 2


def test_nli_premise_is_the_findings_section_even_with_deidentified_words(tmp_path):
    loaded = load(tmp_path, "nli", [
        nli_line(),
        nli_line(pair_index=1, hypothesis={"text": "The effusion is on the left."}, label="contradiction"),
        nli_line(uid="11", hypothesis=span("11", "PICC in good position.", "IMPRESSION:"), label="neutral"),
    ])
    (first, text), _, (third, text11) = loaded
    assert text[first.premise_start:first.premise_end].startswith("The heart is normal in size.")
    assert "XXXX" in text11[third.premise_start:third.premise_end]
    assert text[first.hypothesis.start:first.hypothesis.end] == "Small right pleural effusion."


@pytest.mark.parametrize("line, message", [
    (nli_line(premise_start=findings("10")["premise_start"] + 4), "not the findings section"),
    (nli_line(hypothesis=span("10", "Small right pleural effusion.")), "not inside the impression"),
    (nli_line(label="entail"), "not a nli gold line"),
    (nli_line(hypothesis={"text": ""}), "not a nli gold line"),
    (nli_line(uid="12", hypothesis={"text": "The chest is normal."}), "test list"),
])
def test_nli_refuses_an_untrustworthy_line(tmp_path, line, message):
    with pytest.raises(GoldError, match=message):
        load(tmp_path, "nli", [line])


def test_qa_agreement_is_kappa_of_answer_types_and_overlap_of_spans(tmp_path):
    """Hand-computed: observed 3/4, chance 1/4, kappa 2/3; one shared span question, "right" against
    "Small right": not exact, token F1 2/3."""
    first = [qa_line(), qa_line(question_id="p-2", kind="presence", answer={"type": "yes"},
                                evidence=span("10", "Small right pleural effusion")),
             qa_line(question_id="p-3", kind="presence", answer={"type": "no"}, evidence=span("10", "No pneumothorax")),
             qa_line(question_id="d-4", kind="device", answer={"type": "not_stated"})]
    second = [qa_line(pass_=2, answer={"type": "span", **span("10", "Small right")}),
              qa_line(pass_=2, question_id="p-2", kind="presence", answer={"type": "yes"},
                      evidence=span("10", "Small right pleural effusion")),
              qa_line(pass_=2, question_id="p-3", kind="presence", answer={"type": "not_stated"}),
              qa_line(pass_=2, question_id="d-4", kind="device", answer={"type": "not_stated"}),
              qa_line(pass_=2, question_id="only-in-pass-2", kind="device", answer={"type": "not_stated"})]
    lines = [line for line, _ in load(tmp_path, "qa", first + second)]
    result = agreement("qa", lines[:4], lines[4:], TEXTS)
    assert isinstance(result, QaAgreement)
    assert (result.items, result.span_items, result.span_exact) == (4, 1, 0.0)
    assert result.answer_type_kappa == pytest.approx(2 / 3)
    assert result.span_token_f1 == pytest.approx(2 / 3)


def test_nli_agreement_is_kappa_of_labels(tmp_path):
    """Hand-computed: observed 3/4, chance 7/16, kappa (3/4 - 7/16) / (9/16) = 5/9."""
    labels_1, labels_2 = ["entailment", "contradiction", "neutral", "entailment"], \
        ["entailment", "contradiction", "entailment", "entailment"]
    first = [nli_line(pair_index=i, hypothesis={"text": f"claim {i}"}, label=label) for i, label in enumerate(labels_1)]
    second = [nli_line(pass_=2, pair_index=i, hypothesis={"text": f"claim {i}"}, label=label)
              for i, label in enumerate(labels_2)]
    lines = [line for line, _ in load(tmp_path, "nli", first + second)]
    result = agreement("nli", lines[:4], lines[4:])
    assert isinstance(result, NliAgreement) and result.items == 4
    assert result.label_kappa == pytest.approx(5 / 9)


def test_draw_never_takes_a_test_list_report():
    assert sorted(draw_qa_nli_uids(CSV, TEST_LIST), key=int) == ["10", "11"]


def test_agreement_items_are_a_fixed_fifth_rounded_up():
    keys = [f"{uid}:side-1" for uid in range(1, 12)]
    chosen = agreement_items(keys)
    assert len(chosen) == 3 and set(chosen) <= set(keys) and chosen == agreement_items(list(reversed(keys)))


def test_trivial_qa_answers_are_scored_by_type_and_span_words(tmp_path):
    """The benchmark's floor: a side question gets the first side word (gold "right": 1.0), a size question
    the first measurement (gold "7 mm": 1.0; against gold "Small", 0), a presence question "no", a device
    question "not stated"."""
    lines = load(tmp_path, "qa", [
        qa_line(),
        qa_line(uid="11", question_id="size-1", kind="size", answer={"type": "span", **span("11", "7 mm")}),
        qa_line(question_id="size-2", kind="size", answer={"type": "span", **span("10", "Small")}),
        qa_line(question_id="presence-3", kind="presence", answer={"type": "yes"},
                evidence=span("10", "Small right pleural effusion")),
        qa_line(question_id="device-4", kind="device", answer={"type": "not_stated"}),
    ])
    answers = [kind_default(line, text) for line, text in lines]
    assert answers == [("span", "right"), ("span", "7 mm"), ("not_stated", ""), ("no", ""), ("not_stated", "")]
    assert [qa_score(line, text, answer) for (line, text), answer in zip(lines, answers)] == [1.0, 1.0, 0.0, 0.0, 1.0]
    assert qa_score(lines[0][0], lines[0][1], ("span", "right lower")) == pytest.approx(2 / 3)


# --- the real gold files -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    csv_path = os.path.join(DATA, "iu-xray", "indiana_reports.csv")
    needed = [csv_path, os.path.join(DATA, "negbio", "openi-testset.txt")]
    missing = [p for p in needed if not os.path.exists(p)]
    if missing:
        message = f"QA/NLI gold test needs {', '.join(os.path.relpath(p, ROOT) for p in missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must have ../shared/data", pytrace=False)
        pytest.skip(message)
    return csv_path, {task: load_gold(task, os.path.join(GOLD, f"{task}.jsonl"), csv_path) for task in ("qa", "nli")}


def test_real_gold_loads_with_every_kind_answer_and_label(real):
    _, gold = real
    qa, nli = [line for line, _ in gold["qa"]], [line for line, _ in gold["nli"]]
    assert len(qa) >= 200 and len(nli) >= 200
    assert {line.kind for line in qa} == {"presence", "side", "size", "device", "follow_up"}
    types = [line.answer.type for line in qa]
    assert all(types.count(t) >= 0.1 * len(qa) for t in ("span", "yes", "no", "not_stated"))
    labels = [line.label for line in nli]
    assert all(labels.count(label) >= 0.25 * len(nli) for label in ("entailment", "contradiction", "neutral"))
    assert {(line.annotator, line.pass_) for line in qa + nli} == {("annotator-B", 1)}


def test_real_gold_is_the_recorded_draw_and_writes_no_report_text(real):
    csv_path, gold = real
    drawn = set(draw_qa_nli_uids(csv_path))
    assert {line.uid for task in gold.values() for line, _ in task} == drawn
    for line, text in gold["nli"]:
        if hasattr(line.hypothesis, "text"):
            assert line.hypothesis.text.lower().rstrip(".") not in text.lower(), line.key()


def test_real_impression_hypotheses_are_the_sentences_radiology_nli_makes(real):
    _, gold = real
    for line, text in gold["nli"]:
        if not hasattr(line.hypothesis, "text"):
            start, end = section_span(text, "IMPRESSION")
            sentences = {s.rstrip(" .") for s in impression_sentences(text[start:end], limit=100)}
            assert text[line.hypothesis.start:line.hypothesis.end].rstrip(" .") in sentences, line.key()


def test_real_agreement_subset_is_the_seeded_fifth_of_each_task(real):
    _, gold = real
    with open(os.path.join(GOLD, "agreement-subset-qa-nli.json")) as fh:
        subset = json.load(fh)
    for task in ("qa", "nli"):
        keys = [line.key() for line, _ in gold[task]]
        assert subset[task] == agreement_items(keys, seed=subset["seed"], share=subset["share"])
        assert len(subset[task]) >= 0.2 * len(keys)


def test_real_second_pass_redoes_exactly_the_subset_blind_items(real):
    """Pass 2 answers the subset's items, asks pass 1's questions and hypotheses unchanged, and agrees."""
    csv_path, gold = real
    with open(os.path.join(GOLD, "agreement-subset-qa-nli.json")) as fh:
        subset = json.load(fh)
    for task in ("qa", "nli"):
        second = [line for line, _ in load_gold(task, os.path.join(GOLD, f"{task}-pass2.jsonl"), csv_path)]
        assert {(line.annotator, line.pass_) for line in second} == {("annotator-D", 2)}
        assert sorted(line.key() for line in second) == subset[task]
        first = {line.key(): line for line, _ in gold[task]}
        asked = ("question", "kind") if task == "qa" else ("premise_start", "premise_end", "hypothesis")
        for line in second:
            assert [getattr(line, f) for f in asked] == [getattr(first[line.key()], f) for f in asked], line.key()
        figures = agreement(task, [first[line.key()] for line in second], second,
                            {line.uid: text for line, text in gold[task]})
        assert figures.items == len(subset[task])
