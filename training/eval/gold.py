"""Real-text gold on IU X-ray reports: the files' models, a loader that checks them, and agreement.

The gold files (``training/gold/iu-xray/<task>.jsonl``) hold uids, offsets and labels only; the text
their offsets point into is ``openi.report_text(row)`` for the CSV row with that uid, read from where
the user keeps the data (CC BY-NC-ND 4.0, never in this repository). ``docs/quality/annotation.md``
says how the files were drawn and annotated.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from statsmodels.stats.inter_rater import cohens_kappa

from radlite.tasks.ner import RADGRAPH_LABELS
from radlite.tasks.nli import NLI_LABELS
from radlite.tasks.temporal import CHANGES
from training.data.sources.openi import read_test_ids, report_key, report_text

TASKS = ("ner", "temporal", "qa", "nli")
#: Seed and sizes of the drawn set (docs/quality/annotation.md records the command).
SEED, SLICE_SIZE, NER_SIZE = 33, 300, 100
AGREEMENT_SHARE = 0.2
_TOKEN = re.compile(r"\w+|[^\w\s]")


class GoldError(ValueError):
    """A gold file that cannot be trusted: the message names the file, line and uid."""


class Entity(BaseModel):
    """One entity; extra fields are refused, so no copied report words can ride along."""
    model_config = ConfigDict(extra="forbid")
    start: int
    end: int
    label: Literal[RADGRAPH_LABELS]  # type: ignore[valid-type]


class TemporalStatement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    finding_start: int
    finding_end: int
    change: Literal[CHANGES]  # type: ignore[valid-type]
    cue_start: int
    cue_end: int


class GoldLine(BaseModel):
    """Fields every gold line carries: which report, which split, who annotated it and in which pass."""
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    uid: str
    split: Literal["train", "validation"]
    annotator: str
    pass_: Literal[1, 2] = Field(alias="pass")

    def key(self) -> str:
        """The item two passes are matched on (one line per report unless a task says otherwise)."""
        return self.uid

    def text_problem(self, text: str) -> str | None:
        """A task's own check of the line against its report text (None: nothing wrong)."""
        return None


class NerGold(GoldLine):
    entities: list[Entity]

    def spans(self) -> list[tuple[int, int]]:
        return [(e.start, e.end) for e in self.entities]


class TemporalGold(GoldLine):
    has_comparison: bool
    statements: list[TemporalStatement]

    def spans(self) -> list[tuple[int, int]]:
        return [s for st in self.statements for s in ((st.finding_start, st.finding_end), (st.cue_start, st.cue_end))]


QA_KINDS = ("presence", "side", "size", "device", "follow_up")


class SpanAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["span"]
    start: int
    end: int


class ChoiceAnswer(BaseModel):
    """yes / no (decided by the line's evidence span) or not_stated (the report does not answer)."""
    model_config = ConfigDict(extra="forbid")
    type: Literal["yes", "no", "not_stated"]


class QaGold(GoldLine):
    """One question asked of one report; yes/no answers carry the words that decide them."""
    question_id: str
    question: str = Field(min_length=1)
    kind: Literal[QA_KINDS]  # type: ignore[valid-type]
    answer: SpanAnswer | ChoiceAnswer = Field(discriminator="type")
    evidence_start: int | None = None
    evidence_end: int | None = None

    @model_validator(mode="after")
    def _evidence_for_yes_no(self) -> QaGold:
        has_evidence = self.evidence_start is not None and self.evidence_end is not None
        if (self.answer.type in ("yes", "no")) != has_evidence:
            raise ValueError(f"answer {self.answer.type!r}: evidence_start/evidence_end are required for "
                             "yes/no answers and not allowed otherwise")
        return self

    def key(self) -> str:
        return f"{self.uid}:{self.question_id}"

    def spans(self) -> list[tuple[int, int]]:
        answer = [(self.answer.start, self.answer.end)] if isinstance(self.answer, SpanAnswer) else []
        evidence = [(self.evidence_start, self.evidence_end)] if self.evidence_start is not None else []
        return answer + evidence


class HypothesisSpan(BaseModel):
    """An impression sentence of the same report."""
    model_config = ConfigDict(extra="forbid")
    start: int
    end: int


class HypothesisText(BaseModel):
    """A claim the annotator wrote (the project's own words)."""
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)


class NliGold(GoldLine):
    """The findings section as premise, one hypothesis, one label."""
    pair_index: int = Field(ge=0)
    premise_start: int
    premise_end: int
    hypothesis: HypothesisSpan | HypothesisText
    label: Literal[NLI_LABELS]  # type: ignore[valid-type]

    def key(self) -> str:
        return f"{self.uid}:{self.pair_index}"

    def spans(self) -> list[tuple[int, int]]:
        return [(self.hypothesis.start, self.hypothesis.end)] if isinstance(self.hypothesis, HypothesisSpan) else []

    def text_problem(self, text: str) -> str | None:
        """The premise is exactly the findings section; a span hypothesis lies inside the impression."""
        findings = section_span(text, "FINDINGS")
        if (self.premise_start, self.premise_end) != findings:
            return f"premise [{self.premise_start}, {self.premise_end}) is not the findings section {findings}"
        impression = section_span(text, "IMPRESSION")
        if isinstance(self.hypothesis, HypothesisSpan) and not (
                impression and impression[0] <= self.hypothesis.start and self.hypothesis.end <= impression[1]):
            where = (self.hypothesis.start, self.hypothesis.end)
            return f"hypothesis {where} is not inside the impression section {impression}"
        return None


MODELS: dict[str, type[GoldLine]] = {"ner": NerGold, "temporal": TemporalGold, "qa": QaGold, "nli": NliGold}


def section_span(text: str, header: str) -> tuple[int, int] | None:
    """[start, end) of a headed section's body in ``openi.report_text`` layout (one line per section)."""
    match = re.search(rf"^{header}: (.*)$", text, re.MULTILINE)
    return (match.start(1), match.start(1) + len(match.group(1).rstrip())) if match else None


def default_test_list(csv_path: str) -> str:
    """NegBio's test list where the shared data keeps it: <data>/negbio/ beside <data>/iu-xray/."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(csv_path))), "negbio", "openi-testset.txt")


def read_texts(csv_path: str) -> dict[str, str]:
    """uid -> the headed report text gold offsets point into."""
    with open(csv_path, newline="", encoding="utf-8") as fh:
        return {row["uid"]: report_text(row) for row in csv.DictReader(fh)}


def span_problem(text: str, start: int, end: int) -> str | None:
    """Why a [start, end) span is not a usable annotation, or None when it is."""
    if not 0 <= start < end <= len(text):
        return f"span [{start}, {end}) out of bounds or empty (text has {len(text)} chars)"
    piece = text[start:end]
    if piece != piece.strip():
        return f"span [{start}, {end}) starts or ends in whitespace"
    if "XXXX" in piece:
        return f"span [{start}, {end}) holds a de-identified XXXX"
    return None


def load_gold(task: str, path: str, csv_path: str, test_list: str | None = None) -> list[tuple[GoldLine, str]]:
    """(gold line, report text) for every line of a gold file, after checking each line against its report.

    Refuses (GoldError) a line whose uid is unknown, on NegBio's test list, duplicated within a pass,
    or whose spans are out of bounds, empty, padded with whitespace or inside a de-identified word."""
    if task not in MODELS:
        raise GoldError(f"task {task!r}: use one of {', '.join(MODELS)}")
    test_ids = read_test_ids(test_list or default_test_list(csv_path))
    texts = read_texts(csv_path)
    loaded, seen = [], set()
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                line = MODELS[task].model_validate(json.loads(raw))
            except ValueError as err:
                raise GoldError(f"{where}: not a {task} gold line: {err}") from err
            if report_key(line.uid) in test_ids:
                raise GoldError(f"{where}: uid {line.uid} is on NegBio's test list; gold must never use it")
            if line.uid not in texts:
                raise GoldError(f"{where}: uid {line.uid} is not in {csv_path}")
            if (line.key(), line.pass_, line.annotator) in seen:
                raise GoldError(f"{where}: {line.key()} appears twice for {line.annotator} pass {line.pass_}")
            seen.add((line.key(), line.pass_, line.annotator))
            for start, end in line.spans():
                problem = span_problem(texts[line.uid], start, end)
                if problem:
                    raise GoldError(f"{where}: uid {line.uid}: {problem}")
            problem = line.text_problem(texts[line.uid])
            if problem:
                raise GoldError(f"{where}: uid {line.uid}: {problem}")
            loaded.append((line, texts[line.uid]))
    return loaded


def draw_slice(uids: Iterable[str], seed: int = SEED, size: int = SLICE_SIZE) -> list[str]:
    """A fixed-seed draw of report uids, in draw order (the NER set is its first NER_SIZE)."""
    return random.Random(seed).sample(sorted(set(uids), key=int), size)


def agreement_subset(uids: list[str], seed: int = SEED, share: float = AGREEMENT_SHARE) -> list[str]:
    """The uids a second annotator redoes blind: a fixed-seed share (rounded up) of one task's set."""
    n = -(-len(uids) * share // 1)
    return sorted(random.Random(seed + 1).sample(sorted(uids, key=int), int(n)), key=int)


#: QA/NLI draw (docs/quality/annotation.md, "QA and NLI"): seeds, sizes, and the words that put a report in the
#: second stratum (a measurement, a device, a recommendation).
QA_NLI_SEED, QA_NLI_RANDOM, QA_NLI_RICH = 3301, 80, 40
_RICH_WORDS = re.compile(r"\b(\d+(\.\d+)?\s*(mm|cm)|pacemaker|catheter|tube|port|clips?|wires?|stent|hardware|"
                         r"prosthe\w*|device|follow-?up|recommend\w*)\b", re.IGNORECASE)


def draw_qa_nli_uids(csv_path: str, test_list: str | None = None) -> list[str]:
    """The QA/NLI reports in draw order: QA_NLI_RANDOM at random from the reports off the test list with
    findings and an impression, then QA_NLI_RICH from the rest of those that name a size, device or
    recommendation (too rare in a random draw for those question kinds)."""
    test_ids = read_test_ids(test_list or default_test_list(csv_path))
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = {row["uid"]: row for row in csv.DictReader(fh)
                if report_key(row["uid"]) not in test_ids and row["findings"].strip() and row["impression"].strip()}
    uids = sorted(rows, key=int)
    drawn = random.Random(QA_NLI_SEED).sample(uids, min(QA_NLI_RANDOM, len(uids)))
    pool = [u for u in uids if u not in set(drawn)
            and _RICH_WORDS.search(rows[u]["findings"] + " " + rows[u]["impression"])]
    return drawn + random.Random(QA_NLI_SEED + 1).sample(pool, min(QA_NLI_RICH, len(pool)))


def agreement_items(keys: list[str], seed: int = QA_NLI_SEED + 2, share: float = AGREEMENT_SHARE) -> list[str]:
    """The item keys (``uid:question_id``, ``uid:pair_index``) a second annotator redoes blind: a
    fixed-seed share, rounded up, of one task's items."""
    n = -(-len(keys) * share // 1)
    return sorted(random.Random(seed).sample(sorted(keys), int(n)))


def kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two label sequences (statsmodels); None when chance agreement is total."""
    categories = sorted(set(first) | set(second))
    if len(categories) < 2:
        return None
    index = {c: i for i, c in enumerate(categories)}
    table = [[0] * len(categories) for _ in categories]
    for a, b in zip(first, second, strict=True):
        table[index[a]][index[b]] += 1
    return float(cohens_kappa(table, return_results=False))


def bio_tags(text: str, entities: list[Entity]) -> list[str]:
    """One B-/I-<label> or O tag per word or punctuation token of the report."""
    tags = []
    for token in _TOKEN.finditer(text):
        hit = next((e for e in entities if e.start <= token.start() < e.end), None)
        tags.append("O" if hit is None else f"{'B' if token.start() <= hit.start else 'I'}-{hit.label}")
    return tags


def f1(matched: int, n_first: int, n_second: int) -> float | None:
    return None if n_first + n_second == 0 else 2 * matched / (n_first + n_second)


class NerAgreement(BaseModel):
    reports: int
    token_kappa: float | None
    """Cohen's kappa of the BIO labels of every token in the overlapping reports."""
    span_f1: float | None
    """Exact-match F1 of (start, end, label) between the passes."""


class TemporalAgreement(BaseModel):
    reports: int
    comparison_kappa: float | None
    """Cohen's kappa of has_comparison."""
    matched_findings: int
    """Statements of the two passes whose finding spans overlap."""
    finding_f1: float | None
    change_kappa: float | None
    """Cohen's kappa of the change label over the matched findings."""


def labelled_spans(line: NerGold) -> set[tuple[int, int, str]]:
    return {(e.start, e.end, e.label) for e in line.entities}


def _overlap(first: list[GoldLine], second: list[GoldLine]) -> list[tuple[GoldLine, GoldLine]]:
    by_key = {line.key(): line for line in second}
    return [(line, by_key[line.key()]) for line in first if line.key() in by_key]


def ner_agreement(first: list[NerGold], second: list[NerGold], texts: dict[str, str]) -> NerAgreement:
    pairs = _overlap(first, second)
    tags_a, tags_b, matched, n_a, n_b = [], [], 0, 0, 0
    for a, b in pairs:
        tags_a += bio_tags(texts[a.uid], a.entities)
        tags_b += bio_tags(texts[a.uid], b.entities)
        spans_a, spans_b = labelled_spans(a), labelled_spans(b)
        matched, n_a, n_b = matched + len(spans_a & spans_b), n_a + len(spans_a), n_b + len(spans_b)
    return NerAgreement(reports=len(pairs), token_kappa=kappa(tags_a, tags_b) if tags_a else None,
                        span_f1=f1(matched, n_a, n_b))


def _match_findings(a: TemporalGold, b: TemporalGold) -> list[tuple[TemporalStatement, TemporalStatement]]:
    """Pairs statements whose finding spans overlap, each statement used once, in text order."""
    pairs, used = [], set()
    for sa in a.statements:
        for i, sb in enumerate(b.statements):
            if i not in used and sa.finding_start < sb.finding_end and sb.finding_start < sa.finding_end:
                pairs.append((sa, sb))
                used.add(i)
                break
    return pairs


def temporal_agreement(first: list[TemporalGold], second: list[TemporalGold]) -> TemporalAgreement:
    pairs = _overlap(first, second)
    matched = [m for a, b in pairs for m in _match_findings(a, b)]
    n_a, n_b = sum(len(a.statements) for a, _ in pairs), sum(len(b.statements) for _, b in pairs)
    return TemporalAgreement(
        reports=len(pairs),
        comparison_kappa=kappa([str(a.has_comparison) for a, _ in pairs], [str(b.has_comparison) for _, b in pairs])
        if pairs else None,
        matched_findings=len(matched), finding_f1=f1(len(matched), n_a, n_b),
        change_kappa=kappa([a.change for a, _ in matched], [b.change for _, b in matched]) if matched else None)


class QaAgreement(BaseModel):
    items: int
    answer_type_kappa: float | None
    """Cohen's kappa of the answer type (span, yes, no, not_stated) over the questions both passes answered."""
    span_items: int
    """Questions both passes answered with a span."""
    span_exact: float | None
    """Share of those spans with the same offsets."""
    span_token_f1: float | None
    """Mean token-overlap F1 of those spans (the words of one span against the other's)."""


class NliAgreement(BaseModel):
    items: int
    label_kappa: float | None
    """Cohen's kappa of entailment / contradiction / neutral over the pairs both passes labelled."""


def token_f1(first: str, second: str) -> float:
    """Overlap F1 of two answers' lower-cased word and punctuation tokens (bag of tokens)."""
    a, b = Counter(_TOKEN.findall(first.lower())), Counter(_TOKEN.findall(second.lower()))
    common = sum((a & b).values())
    return 0.0 if common == 0 else 2 * common / (sum(a.values()) + sum(b.values()))


def qa_agreement(first: list[QaGold], second: list[QaGold], texts: dict[str, str]) -> QaAgreement:
    pairs = _overlap(first, second)
    spans = [(a, b) for a, b in pairs if isinstance(a.answer, SpanAnswer) and isinstance(b.answer, SpanAnswer)]
    f1s = [token_f1(texts[a.uid][a.answer.start:a.answer.end], texts[b.uid][b.answer.start:b.answer.end])
           for a, b in spans]
    exact = [(a.answer.start, a.answer.end) == (b.answer.start, b.answer.end) for a, b in spans]
    return QaAgreement(
        items=len(pairs),
        answer_type_kappa=kappa([a.answer.type for a, _ in pairs], [b.answer.type for _, b in pairs])
        if pairs else None,
        span_items=len(spans), span_exact=sum(exact) / len(exact) if exact else None,
        span_token_f1=sum(f1s) / len(f1s) if f1s else None)


def nli_agreement(first: list[NliGold], second: list[NliGold]) -> NliAgreement:
    pairs = _overlap(first, second)
    return NliAgreement(items=len(pairs),
                        label_kappa=kappa([a.label for a, _ in pairs], [b.label for _, b in pairs]) if pairs else None)


def agreement(task: str, first: list[GoldLine], second: list[GoldLine], texts: dict[str, str] | None = None
              ) -> NerAgreement | TemporalAgreement | QaAgreement | NliAgreement:
    """Pass 1 against pass 2 on the items both annotated (texts: uid -> report, needed for NER tokens and
    QA spans)."""
    if task == "ner":
        return ner_agreement(first, second, texts or {})
    if task == "temporal":
        return temporal_agreement(first, second)
    if task == "qa":
        return qa_agreement(first, second, texts or {})
    if task == "nli":
        return nli_agreement(first, second)
    raise GoldError(f"task {task!r}: agreement covers {', '.join(TASKS)}")


Agreement = NerAgreement | TemporalAgreement | QaAgreement | NliAgreement


def file_agreement(task: str, paths: list[str], csv_path: str, test_list: str | None = None) -> Agreement:
    """Pass 1 against pass 2 of one task, the passes read from one or more gold files (pass 2 may sit
    beside pass 1 or in its own file)."""
    loaded = [item for path in paths for item in load_gold(task, path, csv_path, test_list)]
    texts = {line.uid: text for line, text in loaded}
    by_pass = {number: [line for line, _ in loaded if line.pass_ == number] for number in (1, 2)}
    return agreement(task, by_pass[1], by_pass[2], texts)


def main() -> None:
    parser = argparse.ArgumentParser(description="Agreement (Cohen's kappa) between pass 1 and pass 2 of the gold.")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("files", nargs="+", help="gold files holding pass 1 and pass 2 lines")
    parser.add_argument("--csv", default=os.path.join("..", "shared", "data", "iu-xray", "indiana_reports.csv"))
    args = parser.parse_args()
    print(file_agreement(args.task, args.files, args.csv).model_dump_json(indent=1))


if __name__ == "__main__":
    main()
