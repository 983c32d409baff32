"""The review page: one self-contained static HTML file (inline script and style, no network) per sample.

The page asks each table's question in words, with a short rubric and plain words for the pipeline's codes
(``Wording``); a site may reword any of it in a YAML or JSON file (``load_wording``).
"""

from __future__ import annotations

import json
import string
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from radlite.review.sample import SampleManifest
from radlite.review.views import VIEWS
from radlite.store import OutputStore
from radlite.tables import arrow_schema
from radlite.text.assertion import STATUS_OF_CHEXPERT

TEMPLATE = "page.html"
#: What a question may name: the item's label and value in plain words, and a QA item's question text.
PLACEHOLDERS = ("label", "value", "question")


class WordingRefused(ValueError):
    """The site's wording file cannot be used; the message says why in one line."""


class TableWording(BaseModel):
    """How the page asks about one table's values: the question, and what each answer means."""

    model_config = ConfigDict(extra="forbid")
    question: str
    #: Term -> meaning, shown under the question in this order.
    rubric: dict[str, str] = {}


class Wording(BaseModel):
    """Every table's question and rubric, and plain words for codes the reviewer would otherwise see."""

    model_config = ConfigDict(extra="forbid")
    tables: dict[str, TableWording]
    #: Code as stored (a status, a RadGraph label, a task) -> the words shown; the legend lists them.
    words: dict[str, str] = {}


class SiteTableWording(BaseModel):
    """A site's rewording of one table: what it leaves out keeps the default."""

    model_config = ConfigDict(extra="forbid")
    question: str | None = None
    rubric: dict[str, str] | None = None


class SiteWording(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tables: dict[str, SiteTableWording] = {}
    words: dict[str, str] = {}


_STATUS_RUBRIC = {
    "present": "the report says the finding is there",
    "absent": "the report says it is not there (\"no effusion\")",
    "uncertain": "the report hedges (\"possible\", \"cannot exclude\", \"may represent\")",
    "not mentioned": "the report does not speak of it at all",
}

DEFAULT_WORDING = Wording(
    tables={
        "abnormalities": TableWording(question="What does the report say about {label}?", rubric=_STATUS_RUBRIC),
        "rads": TableWording(
            question="Which RADS category does the report give for {label}?",
            rubric={"correct": "the report states this category, or its stated features give it by the system's "
                               "published rules",
                    "No applicable RADS": "correct only when the report gives no RADS category"}),
        "staging": TableWording(
            question="Which {label} does the report state?",
            rubric={"correct": "the report states this stage for this primary",
                    "none found": "correct only when the report states no such stage"}),
        "entities": TableWording(
            question="Are the words \u201c{value}\u201d in this report a mention of {label}?",
            rubric={"anatomy": "a body part or place",
                    "observation, definitely present": "a finding the report asserts",
                    "observation, uncertain": "a finding the report hedges",
                    "observation, definitely absent": "a finding the report denies"}),
        "temporal_changes": TableWording(
            question="Does the report state this change since the prior study?",
            rubric={"new": "not on the prior study", "worsened": "larger or more than before",
                    "improved": "smaller or less than before", "resolved": "gone since the prior study",
                    "unchanged": "the same as before"}),
        "qa_answers": TableWording(
            question="{question}",
            rubric={"correct": "the answer is what the report says",
                    "no answer": "correct only when the report does not answer the question"}),
    },
    words={
        **STATUS_OF_CHEXPERT, "not_mentioned": "not mentioned",
        "none": "any RADS system", "assigned": "a category given",
        "ANAT-DP": "anatomy, definitely present", "OBS-DP": "observation, definitely present",
        "OBS-U": "observation, uncertain", "OBS-DA": "observation, definitely absent",
        "n_staging": "nodal stage (N)", "m_staging": "distant metastasis stage (M)",
    },
)


def _check_placeholders(wording: Wording, name: str) -> None:
    """A question may only name {label}, {value} and {question}: anything else would show as written."""
    for table, tw in wording.tables.items():
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(tw.question) if f is not None]
        except ValueError as exc:
            raise WordingRefused(f"{name}: tables.{table}.question: {exc}") from None
        unknown = [f for f in fields if f not in PLACEHOLDERS]
        if unknown:
            raise WordingRefused(f"{name}: tables.{table}.question names {{{unknown[0]}}}; use "
                                 + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))


def merge_wording(site: SiteWording, name: str, base: Wording = DEFAULT_WORDING) -> Wording:
    """``base`` with the site's questions, rubrics and words put over it."""
    unknown = sorted(set(site.tables) - set(VIEWS))
    if unknown:
        raise WordingRefused(f"{name}: no reviewable table {unknown[0]!r} (tables: {', '.join(VIEWS)})")
    tables = dict(base.tables)
    for table, change in site.tables.items():
        tables[table] = tables[table].model_copy(update=change.model_dump(exclude_none=True))
    wording = Wording(tables=tables, words={**base.words, **site.words})
    _check_placeholders(wording, name)
    return wording


def load_wording(path: str | None) -> Wording:
    """The default wording, or the site's file (YAML or JSON: ``tables: {T: {question, rubric}}, words: {}``)
    over it. Raises WordingRefused with a one-line reason."""
    if path is None:
        return DEFAULT_WORDING
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        site = SiteWording.model_validate(data or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WordingRefused(f"{path}: unreadable wording file ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise WordingRefused(f"{path}: {where}: {error['msg']}") from None
    return merge_wording(site, path)


def qa_questions(store: OutputStore, manifest: SampleManifest) -> dict[str, str]:
    """question_id -> question text for the sample's QA items (the text the model was asked)."""
    wanted = {item.label for item in manifest.items if item.table == "qa_answers"}
    if not wanted:
        return {}
    rows = store.read_table("qa_answers", ["question_id", "question"], include_withheld=True).to_pylist()
    return {r["question_id"]: r["question"] for r in rows if r["question_id"] in wanted and r["question"]}


def page_data(manifest: SampleManifest, texts: dict[str, str], wording: Wording = DEFAULT_WORDING,
              questions: dict[str, str] | None = None) -> dict:
    """What the page's script reads: the sample's items (grouped by report, first seen first), the text of
    their reports, the wording, and a QA item's question text under ``question``."""
    order = {rid: n for n, rid in enumerate(dict.fromkeys(i.report_id for i in manifest.items))}
    items = sorted(manifest.items, key=lambda i: order[i.report_id])  # stable: sample order within a report
    questions = questions or {}
    return {
        "sample_id": manifest.sample_id,
        "out_id": manifest.out_id,
        "out": manifest.out,
        "has_supported": any("supported" in arrow_schema(t).names for t in manifest.tables),
        "items": [{**item.model_dump(),
                   "question": questions.get(item.label) if item.table == "qa_answers" else None}
                  for item in items],
        "reports": {i.report_id: texts.get(i.report_id, "") for i in manifest.items},
        "wording": wording.model_dump(),
    }


def _script_safe_json(data: dict) -> str:
    """JSON that cannot end its <script> element early: <, > and & are written as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(manifest: SampleManifest, texts: dict[str, str], wording: Wording = DEFAULT_WORDING,
                questions: dict[str, str] | None = None) -> str:
    """The HTML of the review page for ``manifest``; ``texts`` maps report_id to the report's text,
    ``questions`` a QA item's question_id to its question."""
    template = resources.files("radlite.review").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return (template.replace("__SAMPLE_ID__", manifest.sample_id)
            .replace("__SAMPLE_JSON__", _script_safe_json(page_data(manifest, texts, wording, questions))))
