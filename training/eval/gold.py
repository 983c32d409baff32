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
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from statsmodels.stats.inter_rater import cohens_kappa

from radlite.tasks.ner import RADGRAPH_LABELS
from radlite.tasks.temporal import CHANGES
from training.data.sources.openi import read_test_ids, report_key, report_text

TASKS = ("ner", "temporal")
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


class NerGold(GoldLine):
    entities: list[Entity]

    def spans(self) -> list[tuple[int, int]]:
        return [(e.start, e.end) for e in self.entities]


class TemporalGold(GoldLine):
    has_comparison: bool
    statements: list[TemporalStatement]

    def spans(self) -> list[tuple[int, int]]:
        return [s for st in self.statements for s in ((st.finding_start, st.finding_end), (st.cue_start, st.cue_end))]


MODELS: dict[str, type[GoldLine]] = {"ner": NerGold, "temporal": TemporalGold}


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
            if (line.uid, line.pass_, line.annotator) in seen:
                raise GoldError(f"{where}: uid {line.uid} appears twice for {line.annotator} pass {line.pass_}")
            seen.add((line.uid, line.pass_, line.annotator))
            for start, end in line.spans():
                problem = span_problem(texts[line.uid], start, end)
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
    by_uid = {line.uid: line for line in second}
    return [(line, by_uid[line.uid]) for line in first if line.uid in by_uid]


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


def agreement(task: str, first: list[GoldLine], second: list[GoldLine], texts: dict[str, str] | None = None
              ) -> NerAgreement | TemporalAgreement:
    """Pass 1 against pass 2 on the reports both annotated (texts: uid -> report, needed for NER tokens)."""
    if task == "ner":
        return ner_agreement(first, second, texts or {})
    if task == "temporal":
        return temporal_agreement(first, second)
    raise GoldError(f"task {task!r}: agreement covers {', '.join(TASKS)}")


def file_agreement(task: str, paths: list[str], csv_path: str, test_list: str | None = None
                   ) -> NerAgreement | TemporalAgreement:
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
