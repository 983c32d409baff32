"""Temporal comparison: what changed since the prior study."""

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
    span_source,
)
from radlite.tasks.table import ExportedValue, ReviewView, TaskTable, found_nothing
from radlite.text.spans import find_phrase, phrase_texts

CHANGES = ("new", "worsened", "improved", "resolved", "unchanged")
_SYNONYMS = {
    "new": "new", "increased": "worsened", "worse": "worsened", "worsening": "worsened", "worsened": "worsened",
    "enlarging": "worsened", "improved": "improved", "improving": "improved", "decreased": "improved",
    "resolved": "resolved", "resolution": "resolved", "unchanged": "unchanged", "stable": "unchanged",
}
MAX_ITEMS, TEXT_CHARS = 3, 24
ANSWER_SCHEMA = pairs_schema(MAX_ITEMS, TEXT_CHARS, CHANGES)
_PRIOR = re.compile(r"\b(compared (to|with)|comparison|prior|previous|interval|since)\b", re.I)
_NO_COMPARISON = re.compile(r"^\s*(none|n/a|no prior[^.]*)\.?\s*$", re.I)
#: A comparison stated as a sentence anywhere, e.g. under the exam line: "Comparison is made with CT of ...".
_COMPARISON_SENTENCE = re.compile(r"\b(?:comparison\s+(?:is|was|has\s+been)\s+made\s+(?:with|to)|compared\s+"
                                  r"(?:with|to)\s+(?:the\s+)?(?:prior|previous|\w+\s+(?:of|dated|from)))\b", re.I)


class Change(BaseModel):
    finding: str
    change: str


class TemporalResult(BaseModel):
    changes: list[Change]


def mentions_prior(report: Report) -> bool:
    """A comparison section that names a prior, a comparison sentence ("Comparison is made with ..."),
    or prior/interval language in the findings."""
    if report.comparison and not _NO_COMPARISON.match(report.comparison):
        return True
    return bool(_PRIOR.search(report.findings or "") or _COMPARISON_SENTENCE.search(report.text))


def parse_changes(raw: str) -> TemporalResult:
    text = clean_output(raw)
    pairs = pairs_from_text(text, "finding", "change")
    if pairs is not None:
        return TemporalResult(changes=[Change(finding=f, change=c) for f, c in pairs if c in CHANGES])
    changes = []
    for line in re.split(r"[\n;]+", text):
        words = re.findall(r"[a-z]+", line.lower())
        label = next((_SYNONYMS[w] for w in words if w in _SYNONYMS), None)
        if label:
            finding = re.sub(r"\b(" + "|".join(_SYNONYMS) + r")\b", "", line, flags=re.I).strip(" :-,.")
            changes.append(Change(finding=finding, change=label))
    if not changes and text.strip() not in ("", "[]", "None"):
        raise ParseError(f"no temporal change in {text[:80]!r}")
    return TemporalResult(changes=changes)


def _review_view() -> ReviewView:
    def empty(r):
        return found_nothing(r, "finding", "change")

    return ReviewView(("finding", "change"), lambda r: "none" if empty(r) else r["change"] or "",
                      lambda r: "No change since the prior found" if empty(r) else f"{r['finding']}: {r['change']}",
                      lambda r: "none" if empty(r) else "positive")


def _exported(row: dict) -> list[ExportedValue]:
    return [ExportedValue("temporal_change", row["finding"], row["change"], "present")] if row["change"] else []


TEMPORAL_CHANGES_TABLE = TaskTable(
    "temporal_changes",
    "Temporal changes per report (temporal_comparison).",
    columns(
        ("finding", pa.string(), "Finding the change refers to."),
        ("change", pa.string(), "new, worsened, improved, resolved or unchanged."),
    ),
    evidence=True,
    review=_review_view(),
    export=_exported,
    fhir_titles={"temporal_change": "Change of {name}"},
)


class TemporalComparison(Task):
    name = "temporal_comparison"
    writes = TEMPORAL_CHANGES_TABLE
    rules = "radlite.rules.answers:changes_answer"
    nothing_stated = "radlite.rules.answers:no_changes_answer"
    support_check = "radlite.evidence_support:change_supported"
    curation_weight = 1.5
    curation_cap = 30_000
    metric_name = "jaccard"
    instruction = ("List changes since the prior study as a JSON list of {finding, change} "
                      "(new, worsened, improved, resolved, unchanged).")

    def skip_reason(self, report: Report) -> str | None:
        return None if mentions_prior(report) else "no comparison study or prior mentioned"

    def input_text(self, report: Report) -> str:
        return report.findings or report.text

    def instances(self, report: Report, questions: tuple = ()) -> list[TaskInstance]:
        """One instance; a finding may copy a span of the sections ``ground`` searches (find_phrase)."""
        return [TaskInstance(self.name, self.input_text(report), self.instruction,
                             context={SPAN_SOURCE: phrase_texts(report)})]

    def answer_format(self, instance: TaskInstance | None = None) -> Decoding:
        return Decoding(max_tokens=pairs_max_chars(MAX_ITEMS, TEXT_CHARS, CHANGES),
                        grammar=pairs_grammar(ANSWER_SCHEMA, TEXT_CHARS, span_source(instance)))

    def parse(self, raw: str) -> TemporalResult:
        return parse_changes(raw)

    def rows(self, result: TemporalResult, instance, report) -> list[dict]:
        return [{"finding": c.finding, "change": c.change} for c in result.changes]

    def ground(self, result: TemporalResult, instance: TaskInstance, report: Report) -> list[Evidence | None]:
        """The finding's own words in the findings or impression; not grounded when the report never says them."""
        return [find_phrase(report, c.finding) for c in result.changes]

    def score(self, prediction: TemporalResult | None, reference: TemporalResult) -> float:
        """Set-Jaccard of predicted vs reference change labels (both empty counts as 1)."""
        predicted = {c.change for c in prediction.changes} if prediction else set()
        expected = {c.change for c in reference.changes}
        if not predicted and not expected:
            return 1.0
        return len(predicted & expected) / len(predicted | expected)

    def answer(self, result: TemporalResult) -> str:
        return json.dumps([[c.finding, c.change] for c in result.changes])
