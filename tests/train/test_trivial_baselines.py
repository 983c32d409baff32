"""Impression generation is compared with what needs no model: the commonest training impression
and the last sentence of the findings, scored exactly like a model's answer."""

from radlite.routing import RoutingTable
from training.data.records import InstructionRecord
from training.eval.report import summarize, trivial_comparisons
from training.eval.trivial import last_sentence, most_frequent_output, trivial_answerers, trivial_predictions


def _record(i: int, findings: str, impression: str, split: str) -> InstructionRecord:
    return InstructionRecord(id=f"r{i}", task="impression_generation", input=findings, output=impression,
                             source="test", tier="gold", split=split)


TRAIN = [_record(1, "Heart normal.", "No acute disease.", "train"),
         _record(2, "Lungs clear.", "No acute disease.", "train"),
         _record(3, "Large effusion.", "Large left effusion.", "train")]
TEST = [_record(10 + i, f"Heart normal. Small left effusion {i}.", f"Small left effusion {i}.", "test")
        for i in range(12)]


def test_the_trivial_answers_are_the_commonest_impression_and_the_last_findings_sentence():
    assert most_frequent_output(TRAIN) == "No acute disease."
    assert last_sentence("Heart normal. Lungs clear! Small effusion.") == "Small effusion."
    answers = trivial_answerers(TRAIN)
    scores = {name: [p.score for p in trivial_predictions(TEST, answer, name)] for name, answer in answers.items()}
    assert all(s == 1.0 for s in scores["last sentence of the findings"])
    assert all(s < 0.5 for s in scores["most frequent training impression"])


def test_eval_compares_a_model_with_each_trivial_baseline_on_the_same_records():
    perfect = trivial_predictions(TEST, lambda r: r.output, "model")
    evaluation = summarize(perfect, RoutingTable(name="model", models={}, tasks={}), "test.jsonl")
    comparisons = trivial_comparisons(TEST, TRAIN, evaluation, "test.jsonl")
    frequent, last = comparisons["most frequent training impression"], comparisons["last sentence of the findings"]
    assert frequent.candidate == 1.0 and frequent.baseline < 0.5 and frequent.p_value < 0.05
    assert last.delta == 0.0
