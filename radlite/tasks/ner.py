"""RadGraph-schema named entities, located back in the report text."""

from __future__ import annotations

import json
import re

import pyarrow as pa
from pydantic import BaseModel

from radlite.columns import columns
from radlite.evidence import Evidence
from radlite.report import Report
from radlite.tasks.base import (
    SPAN_SOURCE,
    Decoding,
    ParseError,
    Task,
    TaskInstance,
    clean_output,
    pairs_from_text,
    pairs_grammar,
    pairs_max_chars,
    pairs_schema,
    rouge_l,
    span_source,
)
from radlite.tasks.table import ExportedValue, ReviewView, TaskTable, found_nothing
from radlite.text.assertion import STATUS_OF_RADGRAPH

RADGRAPH_LABELS = ("ANAT-DP", "OBS-DP", "OBS-U", "OBS-DA")
MAX_ITEMS, TEXT_CHARS = 6, 24
ANSWER_SCHEMA = pairs_schema(MAX_ITEMS, TEXT_CHARS, RADGRAPH_LABELS)
_LINE = re.compile(rf"(?P<a>[^\n:;()]+?)\s*[:(]\s*(?P<b>{'|'.join(RADGRAPH_LABELS)})\)?|"
                   rf"(?P<c>{'|'.join(RADGRAPH_LABELS)})\s*:\s*(?P<d>[^\n;,]+)")


class Entity(BaseModel):
    text: str
    label: str
    change: str | None = None


class NerResult(BaseModel):
    entities: list[Entity]


def parse_entities(raw: str) -> NerResult:
    """JSON ``[["text", "LABEL"], ...]`` (or objects with text/label), or 'text (LABEL)' / 'LABEL: text' lines."""
    text = clean_output(raw)
    pairs = pairs_from_text(text, "text", "label")
    if pairs is not None:
        return NerResult(entities=[Entity(text=t.strip(), label=label) for t, label in pairs
                                   if label in RADGRAPH_LABELS and t.strip()])
    entities = []
    for m in _LINE.finditer(text):
        name, label = (m.group("a"), m.group("b")) if m.group("b") else (m.group("d"), m.group("c"))
        entities.append(Entity(text=name.strip(" -*,."), label=label))
    if not entities and text.strip() not in ("", "[]", "None"):
        raise ParseError(f"no entities in {text[:80]!r}")
    return NerResult(entities=entities)


def _find(needle: str, text: str, cursor: int) -> int:
    """Where ``needle`` (lower case) is in ``text`` (lower case): as whole words after ``cursor``, else as whole
    words anywhere, else inside a longer word ("lung" in "midlung" only when nothing better is there)."""
    whole = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")
    for found in (whole.search(text, cursor), whole.search(text)):
        if found:
            return found.start()
    start = text.find(needle, cursor)
    return start if start >= 0 else text.find(needle)


def locate(entities: list[Entity], text: str) -> list[tuple[int | None, int | None]]:
    """Character spans of entities in the report, searching forward so repeats map in order."""
    lower = text.lower()
    spans, cursor = [], 0
    for e in entities:
        needle = e.text.lower()
        start = _find(needle, lower, cursor) if needle else -1
        if start < 0:
            spans.append((None, None))
        else:
            spans.append((start, start + len(needle)))
            cursor = start + len(needle)
    return spans


def entities_as_text(result: NerResult | None) -> str:
    """Linearised entities, the string the paper scores with ROUGE-L."""
    return "; ".join(f"{e.text} ({e.label})" for e in result.entities) if result else ""


#: RadGraph entity label -> assertion (definitely present / uncertain / definitely absent).
ENTITY_ASSERTION = {**STATUS_OF_RADGRAPH, "ANAT-DP": "present"}


def _review_view() -> ReviewView:
    def empty(r):
        return found_nothing(r, "label", "text")

    return ReviewView(("entity_index",), lambda r: "none" if empty(r) else r["label"] or "",
                      lambda r: "No entity found" if empty(r) else r["text"] or "",
                      lambda r: "none" if empty(r) else "positive")


def _exported(row: dict) -> list[ExportedValue]:
    if not row["text"]:
        return []
    return [ExportedValue("entity", row["label"], row["text"], ENTITY_ASSERTION.get(row["label"]))]


ENTITIES_TABLE = TaskTable(
    "entities",
    "RadGraph-schema entities per report (radiology_ner).",
    columns(
        ("entity_index", pa.int32(), "Order of the entity in the output."),
        ("text", pa.string(), "Entity text."),
        ("label", pa.string(), "RadGraph label: ANAT-DP, OBS-DP, OBS-U, OBS-DA. An observation's present / absent / "
                               "uncertain class is the assertion engine's wherever it finds a cue around the "
                               "entity (radlite.text.assertion); else the answer's."),
        ("model_label", pa.string(), "The label as the answer gave it (the model's, or the rules'), kept for audit "
                                     "when the assertion engine's reading replaces it in label."),
        ("start", pa.int32(), "Character offset of the entity in reports.text: its evidence_start (null when not "
                              "found)."),
        ("end", pa.int32(), "Character end offset (exclusive): its evidence_end."),
        ("change", pa.string(), "Change label where given (RadGraph2)."),
    ),
    evidence=True,
    offsets=("start", "end"),
    review=_review_view(),
    export=_exported,
)


class RadiologyNer(Task):
    name = "radiology_ner"
    writes = ENTITIES_TABLE
    rules = "radlite.rules.answers:entities_answer"
    nothing_stated = "radlite.rules.answers:no_entities_answer"
    support_check = "radlite.evidence_support:entity_supported"
    curation_cap = 30_000
    metric_name = "rouge_l"

    def instances(self, report: Report, questions: tuple = ()) -> list[TaskInstance]:
        """One instance; an entity's text may copy any span of the report (``locate`` searches it all)."""
        return [TaskInstance(self.name, self.input_text(report), self.instruction,
                             context={SPAN_SOURCE: (report.text,)})]

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=pairs_max_chars(MAX_ITEMS, TEXT_CHARS, RADGRAPH_LABELS),
                        grammar=pairs_grammar(ANSWER_SCHEMA, TEXT_CHARS, span_source(instance)))

    def parse(self, raw: str) -> NerResult:
        return parse_entities(raw)

    def rows(self, result: NerResult, instance, report: Report) -> list[dict]:
        spans = locate(result.entities, report.text)
        return [{"entity_index": i, "text": e.text, "label": e.label, "start": s, "end": t, "change": e.change}
                for i, (e, (s, t)) in enumerate(zip(result.entities, spans))]

    def ground(self, result: NerResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        return [Evidence(s, t) if s is not None else Evidence() for s, t in locate(result.entities, report.text)]

    def score(self, prediction: NerResult | None, reference: NerResult) -> float:
        return rouge_l(entities_as_text(prediction), entities_as_text(reference))

    def answer(self, result: NerResult) -> str:
        return json.dumps([[e.text, e.label] for e in result.entities])
