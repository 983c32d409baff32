"""The QA and NLI real-text gold (training/gold/iu-xray/): what it holds, and what trivial answers score on it.

    python benchmarks/gold_qa_nli.py --data ../shared/data [--out FILE.md]

Data: DATA/iu-xray/indiana_reports.csv and DATA/negbio/openi-testset.txt (not in this repository; CC
BY-NC-ND 4.0 as stated by the publisher). The gold's reports are all off the test list.

The product has no rule answerer for radiology_qa or radiology_nli (radlite/rules/answers.py), so the
floor a model must clear is a trivial one, written before looking at the gold and never tuned on it:
  QA  not_stated   every question answered "not stated"
      kind default a presence question "no" (most statements in chest reports are negative); a side
                   question the first side word of the findings then impression; a size question the
                   first measurement (number + mm/cm); device and follow-up questions "not stated"
  NLI one label    every pair labelled entailment (the label a consistent report's impression earns),
                   then the same for neutral and contradiction
A QA answer scores 1 when its type and, for a span, its words match the gold (token-overlap F1 for
spans: partial credit); "correct" counts type match, with a span counted when its token F1 is >= 0.5.
Each figure has its n and a 95% interval (Wilson for shares; percentile bootstrap for mean scores); the
intervals treat items as independent, though several come from one report (120 reports), so they are
somewhat too narrow.
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from collections.abc import Callable

from radlite.review.figures import wilson
from radlite.tasks.nli import NLI_LABELS
from training.eval.gold import QA_KINDS, QaGold, SpanAnswer, load_gold, token_f1
from training.eval.stats import bootstrap_ci

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLD = os.path.join(ROOT, "training", "gold", "iu-xray")
ANSWER_TYPES = ("span", "yes", "no", "not_stated")
_SIDE = re.compile(r"\b(?:left|right|bilateral(?:ly)?|bibasilar|biapical)\b", re.IGNORECASE)
_MEASURE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:x\s*\d+(?:\.\d+)?\s*)?(?:mm|cm)\b", re.IGNORECASE)

#: A baseline's answer to one question: (answer type, answer text for a span, else "").
Answer = tuple[str, str]


def _body(text: str) -> str:
    """Findings then impression: where a report's own statements are."""
    start = text.find("FINDINGS:")
    return text[start:] if start >= 0 else text


def not_stated(line: QaGold, text: str) -> Answer:
    return "not_stated", ""


def kind_default(line: QaGold, text: str) -> Answer:
    if line.kind == "presence":
        return "no", ""
    pattern = {"side": _SIDE, "size": _MEASURE}.get(line.kind)
    match = pattern.search(_body(text)) if pattern else None
    return ("span", match.group(0)) if match else ("not_stated", "")


QA_ARMS: dict[str, Callable[[QaGold, str], Answer]] = {"not_stated": not_stated, "kind default": kind_default}


def qa_score(line: QaGold, text: str, answer: Answer) -> float:
    """1 for the gold's yes/no/not_stated; token-overlap F1 against the gold span for a span; else 0."""
    kind, words = answer
    if kind != line.answer.type:
        return 0.0
    if isinstance(line.answer, SpanAnswer):
        return token_f1(words, text[line.answer.start:line.answer.end])
    return 1.0


def share_row(name: str, hits: int, n: int) -> str:
    low, high = wilson(hits, n) if n else (0.0, 0.0)
    return f"| {name} | {n} | {hits / n if n else 0:.3f} | {low:.3f}–{high:.3f} |"


def counts_table(title: str, counts: Counter, order: tuple[str, ...]) -> list[str]:
    total = sum(counts.values())
    return [f"| {title} | n | share |", "|---|---|---|",
            *(f"| {key} | {counts[key]} | {counts[key] / total:.2f} |" for key in order), f"| all | {total} | 1.00 |"]


def qa_section(gold: list) -> list[str]:
    lines = ["## QA", "", *counts_table("kind", Counter(g.kind for g, _ in gold), QA_KINDS), "",
             *counts_table("answer", Counter(g.answer.type for g, _ in gold), ANSWER_TYPES), "",
             "| arm (questions) | n | correct | 95% interval | mean score | 95% interval |",
             "|---|---|---|---|---|---|"]
    for name, arm in QA_ARMS.items():
        for kind in (None, *QA_KINDS):
            subset = [(g, t) for g, t in gold if kind in (None, g.kind)]
            scores = [qa_score(g, t, arm(g, t)) for g, t in subset]
            hits = sum(s >= 0.5 for s in scores)
            low, high = bootstrap_ci(scores)
            label = f"{name} ({kind or 'all'})"
            lines.append(f"{share_row(label, hits, len(scores))} "
                         f"{sum(scores) / len(scores):.3f} | {low:.3f}–{high:.3f} |")
    return lines


def nli_section(gold: list) -> list[str]:
    labels = Counter(g.label for g, _ in gold)
    written = Counter(g.label for g, _ in gold if hasattr(g.hypothesis, "text"))
    spans = [(g, t) for g, t in gold if not hasattr(g.hypothesis, "text")]
    return ["## NLI", "", *counts_table("label", labels, NLI_LABELS), "",
            f"Hypotheses: {len(gold) - sum(written.values())} impression sentences, {sum(written.values())} "
            f"written by the annotator.", "",
            "| arm | n | accuracy | 95% interval |", "|---|---|---|---|",
            *(share_row(f"always {label}", labels[label], len(gold)) for label in NLI_LABELS),
            share_row("always entailment, impression sentences only (the pairs radiology_nli makes)",
                      sum(g.label == "entailment" for g, _ in spans), len(spans))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--out", help="also write the tables to this Markdown file")
    args = parser.parse_args()
    csv_path = os.path.join(args.data, "iu-xray", "indiana_reports.csv")
    qa, nli = (load_gold(task, os.path.join(GOLD, f"{task}.jsonl"), csv_path) for task in ("qa", "nli"))
    reports = len({g.uid for g, _ in qa} | {g.uid for g, _ in nli})
    text = "\n".join([f"Gold: {reports} IU X-ray reports off the test list, annotator-B pass 1.", "",
                      *qa_section(qa), "", *nli_section(nli), ""])
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
