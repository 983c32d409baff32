"""An entity row's start/end are the words it came from: the same offsets as its evidence, never an earlier
copy of the same word elsewhere in the report, nor a word inside a longer one (hand-written reports)."""

from radlite.kinds import get_kind
from radlite.kinds.cascade import answer_instances
from radlite.report import build_report
from radlite.routing import ModelEntry, RoutingTable
from radlite.tasks import TASKS
from radlite.tasks.ner import Entity, locate

RULES = RoutingTable(name="rules-ner", models={"rules": ModelEntry(kind="rules")}, tasks={"radiology_ner": "rules"})
# hand-written: the finding named first in the indication, then read in the findings
TEXT = ("INDICATION: Followup pneumothorax.\nCOMPARISON: Prior.\n"
        "FINDINGS: No pneumothorax. Patchy opacity in the midlung zone. The lung volumes are normal.\n"
        "IMPRESSION: No pneumothorax.")


def _entity_rows(text: str) -> list[dict]:
    report = build_report("hand-written", "offsets", text)
    answered = answer_instances(RULES, report, TASKS["radiology_ner"].instances(report),
                                lambda k: get_kind(RULES.models[k].kind).load(RULES.models[k]), "run-1")
    return [row for table, row in answered.rows if table == "entities" and row["text"]]


def test_entity_offsets_are_its_evidence():
    rows = _entity_rows(TEXT)
    assert rows
    for row in rows:
        assert (row["start"], row["end"]) == (row["evidence_start"], row["evidence_end"]), row
        assert TEXT[row["start"]:row["end"]].lower() == row["text"].lower()
    # the rules read the findings' "No pneumothorax", not the indication's: the row points there
    negated = [r for r in rows if r["text"].lower() == "pneumothorax" and r["label"] == "OBS-DA"]
    assert negated and all(r["start"] > TEXT.index("FINDINGS") for r in negated)


def test_a_located_word_is_a_whole_word_before_a_part_of_one():
    text = "Opacity in the midlung zone. The lung volumes are normal."
    (start, end), = locate([Entity(text="lung", label="ANAT-DP")], text)
    assert text[start - 1] == " " and text[start:end] == "lung"
    # only inside a longer word when the report has it nowhere else
    (start, end), = locate([Entity(text="lung", label="ANAT-DP")], "Opacity in the midlung zone.")
    assert (start, end) == (18, 22)
