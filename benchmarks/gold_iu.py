"""The embedded rules and the trivial baseline against the project's real-text gold (NER, temporal).

    python benchmarks/gold_iu.py --data ../shared/data [--out FILE.md]

Gold: training/gold/iu-xray/{ner,temporal}.jsonl (docs/quality/annotation.md; IU X-ray validation
reports, pass 1). Nothing here is tuned on it: it measures the rules as they ship.

NER (the rules' `radiology_ner` extractor, radlite/rules/entities.py): micro-F1 of entities whose
label matches and whose span is exact, and whose span overlaps a gold span (each gold entity matched
once); for observations matched by overlap, how often the rules' assertion class equals the gold's.
Temporal (radlite/rules/temporal.py): has_comparison from `mentions_prior` against the gold, and
statements matched by overlapping finding spans with the same change label. The trivial baseline is
"nothing stated" (no entity, no change: what the rules answer when they read nothing) and, for
has_comparison, the gold's majority class. Intervals: 95%, percentile bootstrap over reports
(scipy.stats.bootstrap) for F1, Wilson (statsmodels) for proportions.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import bootstrap
from statsmodels.stats.proportion import proportion_confint

from radlite.report import build_report
from radlite.rules.entities import report_entities
from radlite.rules.temporal import stated_changes
from radlite.tasks.temporal import mentions_prior
from training.data.sources.openi import SOURCE, report_key
from training.eval.gold import NerGold, TemporalGold, kappa, load_gold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLD = os.path.join(ROOT, "training", "gold", "iu-xray")
Span = tuple[int, int, str]


def overlap_matches(predicted: Sequence[Span], gold: Sequence[Span], same_label: bool = True
                    ) -> list[tuple[Span, Span]]:
    """Pairs (predicted, gold) whose spans overlap (and labels agree when asked), each gold used once."""
    pairs, used = [], set()
    for p in predicted:
        for i, g in enumerate(gold):
            if i not in used and p[0] < g[1] and g[0] < p[1] and (not same_label or p[2] == g[2]):
                pairs.append((p, g))
                used.add(i)
                break
    return pairs


def micro_f1_interval(counts: list[tuple[int, int, int]]) -> tuple[float, float, float]:
    """Micro-F1 over reports of (matched, predicted, gold) counts, with a 95% bootstrap interval."""
    def f1(matched, predicted, gold, axis=-1):
        denominator = predicted.sum(axis=axis) + gold.sum(axis=axis)
        return 2 * matched.sum(axis=axis) / (denominator + (denominator == 0))
    columns = [[c[i] for c in counts] for i in range(3)]
    arrays = [np.array(c, dtype=float) for c in columns]
    point = float(f1(*arrays))
    if len(counts) < 2 or len(set(zip(*columns, strict=True))) < 2:
        return point, point, point
    ci = bootstrap(arrays, f1, paired=True, vectorized=True, method="percentile", confidence_level=0.95,
                   n_resamples=2000, random_state=42).confidence_interval
    return point, float(ci.low), float(ci.high)


def proportion(hits: int, n: int) -> tuple[float, float, float]:
    low, high = proportion_confint(hits, n, alpha=0.05, method="wilson") if n else (0.0, 0.0)
    return (hits / n if n else 0.0), float(low), float(high)


def ner_rows(loaded: list[tuple[NerGold, str]], predict: Callable[[str, str], list[Span]]) -> dict:
    exact, overlap, assertion = [], [], [0, 0]
    for line, text in loaded:
        gold = [(e.start, e.end, e.label) for e in line.entities]
        predicted = predict(line.uid, text)
        exact.append((len(set(predicted) & set(gold)), len(predicted), len(gold)))
        overlap.append((len(overlap_matches(predicted, gold)), len(predicted), len(gold)))
        observed = [(p, g) for p, g in overlap_matches(predicted, gold, same_label=False)
                    if p[2].startswith("OBS") and g[2].startswith("OBS")]
        assertion[0] += sum(p[2] == g[2] for p, g in observed)
        assertion[1] += len(observed)
    return {"exact": micro_f1_interval(exact), "overlap": micro_f1_interval(overlap),
            "assertion": (*proportion(*assertion), assertion[1])}


def temporal_rows(loaded: list[tuple[TemporalGold, str]], predict: Callable[[str, str], tuple[bool, list[Span]]]
                  ) -> dict:
    counts, said, truth = [], [], []
    for line, text in loaded:
        has_comparison, predicted = predict(line.uid, text)
        gold = [(s.finding_start, s.finding_end, s.change) for s in line.statements]
        counts.append((len(overlap_matches(predicted, gold)), len(predicted), len(gold)))
        said.append(str(has_comparison))
        truth.append(str(line.has_comparison))
    agree = sum(a == b for a, b in zip(said, truth, strict=True))
    return {"statements": micro_f1_interval(counts), "comparison": (*proportion(agree, len(truth)), len(truth)),
            "comparison_kappa": kappa(said, truth)}


def gold_report(uid: str, text: str):
    """The report as radlite reads it; its text must be the gold's, or the rules' offsets mean nothing."""
    report = build_report(SOURCE, report_key(uid), text)
    if report.text != text:
        raise ValueError(f"uid {uid}: radlite's report text differs from the gold's")
    return report


def rules_entities(uid: str, text: str) -> list[Span]:
    report = gold_report(uid, text)
    return [(f.start, f.end, f.label) for f in report_entities(report)]


def rules_changes(uid: str, text: str) -> tuple[bool, list[Span]]:
    report = gold_report(uid, text)
    stated = stated_changes(report)
    spans = [(ev.start, ev.end, c.change) for c, ev in zip(stated[0].changes, stated[1], strict=True)] if stated else []
    return mentions_prior(report), spans


def fmt(figure: tuple[float, float, float]) -> str:
    return f"{figure[0]:.3f} [{figure[1]:.3f}, {figure[2]:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args()
    csv_path = os.path.join(args.data, "iu-xray", "indiana_reports.csv")
    ner = load_gold("ner", os.path.join(GOLD, "ner.jsonl"), csv_path)
    temporal = load_gold("temporal", os.path.join(GOLD, "temporal.jsonl"), csv_path)
    majority = sum(line.has_comparison for line, _ in temporal) * 2 >= len(temporal)
    arms = {"rules (`kind: rules`)": (rules_entities, rules_changes),
            "trivial: nothing stated": (lambda uid, text: [], lambda uid, text: (majority, []))}
    lines = [f"NER gold: {len(ner)} reports, {sum(len(line.entities) for line, _ in ner)} entities; temporal gold: "
             f"{len(temporal)} reports, {sum(len(line.statements) for line, _ in temporal)} statements. "
             "95% intervals in brackets.", "",
             "| arm | NER F1 exact | NER F1 overlap | assertion agreement (n) | temporal statement F1 | "
             "has_comparison accuracy (n) | has_comparison kappa |", "|---|---|---|---|---|---|---|"]
    for name, (entities, changes) in arms.items():
        n, t = ner_rows(ner, entities), temporal_rows(temporal, changes)
        kappa_text = "n/a" if t["comparison_kappa"] is None else f"{t['comparison_kappa']:.3f}"
        lines.append(f"| {name} | {fmt(n['exact'])} | {fmt(n['overlap'])} | {fmt(n['assertion'][:3])} "
                     f"({n['assertion'][3]}) | {fmt(t['statements'])} | {fmt(t['comparison'][:3])} "
                     f"({t['comparison'][3]}) | {kappa_text} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(table + "\n")


if __name__ == "__main__":
    main()
