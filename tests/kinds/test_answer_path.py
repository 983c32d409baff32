"""One answer path: `radlite run` (the pipeline's record processor) and `radlite train eval` answer the same
instance along the same route with the same rows: rules first in a cascade, the model for the rest."""

import pytest

from pipelines.process import ACCEPTED_NEW, RecordProcessor, RecordWork
from pipelines.task_stage import TaskStage
from radlite.io.records import IngestLimits
from radlite.kinds import KINDS, InferenceCounts, get_kind
from radlite.kinds.cascade import answer_instances
from radlite.report import build_report
from radlite.routing import ModelEntry, RoutingTable, embedded_model_path
from radlite.tasks import TASKS
from training.data.records import InstructionRecord, Tier, record_instance
from training.eval.predict import _answer

ROUTING = RoutingTable(name="paths", models={"rules": ModelEntry(kind="rules"),
                                             "m": ModelEntry(path=embedded_model_path(), threads=2)},
                       tasks={"rads_assignment": ["rules", "m"], "n_staging": "m", "abnormality_detection": "rules"})
TEXTS = {"stated": "EXAMINATION: MAMMO\nFINDINGS: Mass.\nIMPRESSION: BI-RADS 5, highly suggestive of malignancy.",
         "silent": "EXAMINATION: CT CHEST\nFINDINGS: Spiculated mass. Enlarged subcarinal node.\nIMPRESSION: Mass."}


def _pipeline_rows(report) -> list[tuple[str, dict]]:
    stage = TaskStage(ROUTING, tuple(ROUTING.tasks), (), list(ROUTING.tasks))
    processor = RecordProcessor(IngestLimits(), frozenset(), frozenset(), stage, "run-1", None)
    work = RecordWork("src", 0, ACCEPTED_NEW, report=report, counts=InferenceCounts())
    processor.plan(work)
    processor.answer([work])
    return [(table, row) for table, row in work.rows if table != "reports"]


def _strip(rows):
    return sorted((table, sorted((k, str(v)) for k, v in row.items() if k not in ("run_id", "confidence")))
                  for table, row in rows)


def _confidences(rows):
    return [row["confidence"] for _, row in sorted(rows, key=lambda tr: _strip([tr]))]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_pipeline_and_evaluation_answer_an_instance_with_the_same_rows(name):
    records = {task: InstructionRecord(id=name, task=task, input=TEXTS[name], output="", source="src",
                                          tier=Tier.GOLD) for task in ROUTING.tasks}
    report = build_report("src", name, TEXTS[name])
    pipeline = _pipeline_rows(report)
    for task, record in records.items():
        rows = [row for table, row in pipeline if row["task"] == task]
        assert rows, task
        assert _answer(record, ROUTING, []) == (rows[0]["model_id"], rows[0]["raw_output"] or "")
        eval_report, instance = record_instance(record)
        assert eval_report == report
        answered = answer_instances(ROUTING, eval_report, [instance], lambda k: get_kind(ROUTING.models[k].kind)
                                    .load(ROUTING.models[k]), "run-1")
        same_task = [(t, r) for t, r in pipeline if r["task"] == task]
        assert _strip(answered.rows) == _strip(same_task)
        # a model value's token probabilities move a little with the batch llama.cpp decoded it in (the
        # pipeline decodes a report's instances together, evaluation one at a time): same answer, close scores
        for alone, batched in zip(_confidences(answered.rows), _confidences(same_task), strict=True):
            assert (alone is None) == (batched is None)
            assert alone is None or alone == pytest.approx(batched, abs=0.05)
    cascaded = [r for t, r in pipeline if r["task"] == "rads_assignment"][0]["model_id"]
    assert cascaded.startswith("radlite-rules") == (name == "stated")  # the rules answer what the report states


def test_every_routing_kind_is_registered_once_with_its_model_id():
    # each kind is one object: its routing traits, its entry options, how it loads and answers
    assert set(KINDS) == {"rules", "llama.cpp"}
    assert all(kind.options.model_fields["kind"].default == name for name, kind in KINDS.items())
    assert get_kind("rules").model_id(ROUTING.models["rules"]).startswith("radlite-rules")
    assert get_kind("llama.cpp").model_id(ROUTING.models["m"]) == ROUTING.models["m"].label()
    with pytest.raises(ValueError, match="unknown model kind"):
        get_kind("remote")
    assert set(TASKS) >= set(ROUTING.tasks)


def test_k_shot_evaluation_decodes_the_k_shot_prompt_through_the_models_one_decode_path(monkeypatch):
    """`radlite train eval --k-shot`: the model's own generate_groups (the pipeline's decoder) gets the
    profile's k-shot prompt, the solved example an earlier turn and a data span like the report."""
    from radlite.inference.engine import LoadedModel

    seen, original = [], LoadedModel.generate_groups

    def recording(model, groups):
        seen.extend(prompt for prompts in groups for prompt in prompts)
        return original(model, groups)

    monkeypatch.setattr(LoadedModel, "generate_groups", recording)
    shot = InstructionRecord(id="shot", task="n_staging", input=TEXTS["stated"], output="N1", source="src",
                             tier=Tier.GOLD)
    record = InstructionRecord(id="q", task="n_staging", input=TEXTS["silent"], output="", source="src", tier=Tier.GOLD)
    model_id, raw = _answer(record, ROUTING, [shot])
    assert model_id == ROUTING.models["m"].label() and raw
    (prompt,) = seen
    data = [prompt.text[s:e].strip() for s, e in prompt.data_spans]
    assert prompt.text.index("N1<|im_end|>") < prompt.text.index("Enlarged subcarinal node")
    assert "N1" in data and any("Enlarged subcarinal node" in d for d in data)
    assert any("BI-RADS 5" in d for d in data)  # the example's report
