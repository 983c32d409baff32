"""Quality on REAL reports: CheXpert labels on Open-i's IU X-ray reports against NegBio's hand labels.

    python benchmarks/quality_iu.py --data ../shared/data [--split validation|test] [--limit N] [--out FILE.md]

Data (not in this repository; CC BY-NC-ND 4.0 as stated by the publisher): DATA/iu-xray/
indiana_reports.csv, DATA/negbio/openi_gld_std14.csv (ChestX-ray14 labels) and DATA/negbio/
openi-testset.txt (NegBio's 771-report test list). ``--split test`` scores those 771 reports;
``--split validation`` (alias ``dev``) the other 3,080, the only ones rules are developed on. Every
``--split test`` run appends a line (date, commit, command, figures) to the test-split ledger,
docs/quality/test-ledger.jsonl (training/eval/ledger.py); ``--ledger PATH`` appends any split's run to
PATH instead. The default split is ``validation``: scoring the test list is a deliberate act.

Gold labels map to CheXpert's (training/data/sources/openi.py): Atelectasis, Cardiomegaly,
Effusion -> Pleural Effusion, Pneumonia, Pneumothorax, Consolidation, Edema, Mass/Nodule -> Lung
Lesion, normal -> No Finding. A prediction counts as positive when its status is positive, or
uncertain for cardiomegaly ("borderline cardiomegaly" is positive in this gold; chosen on dev).

Arms, each through `radlite run` itself (a CSV export of the reports in, the abnormalities table out):
  keywords  a 20-line keyword-with-negation baseline (no pipeline)
  rules     the rule extractors alone (kind: rules)
  model     the embedded language model alone: the routing's model for the task, else its entry with
            the real-data adapter (trained on IU X-ray's abnormality labels, among others)
  routed    the built-in `embedded` routing as shipped (rules, model or a cascade per task)
  entities  the built-in `embedded` routing as shipped, radiology_ner alone: the published `entities`
            rows (withheld ones left out) read as claims (training/eval/negbio.py: OBS-DP present,
            OBS-DA absent, OBS-U uncertain, of the eight findings NegBio covers) and scored against
            NegBio's gold, beside the keyword baseline's claims (a keyword sentence without a
            negation word says present, with one absent) scored the same way
Printed: per-label precision/recall/F1, micro-F1 with its bootstrap 95% interval (reports
resampled), reports/s; and, for the routed arm, the share of
model-written rows in abnormalities, temporal_changes and entities whose evidence is not in the report.
For the entities arm: present and absent claims (n, share agreeing with NegBio, Wilson 95% interval),
uncertain claims (n, not scored) and the grounded share of the published entity rows. Rows of one
report are not independent, so the Wilson interval (rows as the unit) is narrower than a
report-resampled one would be.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import tempfile
import time

import yaml

from pipelines.options import TaskOptions
from pipelines.run import RunConfig, run_etl
from radlite.io.inputs import ColumnMapping, expand_inputs
from radlite.kinds.rules import RULES
from radlite.review.figures import wilson
from radlite.routing import load_routing
from radlite.store import OutputStore
from training.data.sources.openi import MAPPED_LABELS, report_text
from training.eval.ledger import LEDGER, record_scoring
from training.eval.negbio import (
    Claim,
    ClaimAgreement,
    claim_agreement,
    entity_claim,
    gold_labels,
    is_positive,
    micro_f1_ci,
    scores,
    split_reports,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

REAL_DATA_ADAPTER = "embedded-lora-cpu-demo.gguf"
GROUNDED_TABLES = ("abnormalities", "temporal_changes", "entities")
_KEYWORDS = {"atelectasis": "atelecta", "cardiomegaly": "cardiomegaly|enlarged heart|heart is enlarged",
             "pleural effusion": "effusion", "pneumonia": "pneumonia", "pneumothorax": "pneumothorax",
             "consolidation": "consolidation", "edema": "edema", "lung lesion": "nodule|mass"}
_NEGATED = re.compile(r"\b(?:no|without|negative for|free of|clear of)\b", re.I)


def keyword_claims(text: str) -> list[Claim]:
    """The trivial baseline's claims: per sentence and keyword, absent with a negation word, else present."""
    return [Claim(label, "absent" if _NEGATED.search(sentence) else "present")
            for sentence in re.split(r"[.\n]", text.split("FINDINGS:", 1)[-1])
            for label, words in _KEYWORDS.items() if re.search(words, sentence, re.I)]


def keyword_labels(text: str) -> set[str]:
    """The honest trivial baseline: a keyword in a sentence with no negation word is a finding."""
    return {c.finding for c in keyword_claims(text) if c.assertion == "present"} or {"no finding"}


def write_export(rows: list[dict], path: str) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text"])
        writer.writerows([f"CXR{row['uid']}", report_text(row)] for row in rows)


def abnormality_routing(arm: str, path: str) -> str:
    """A routing table sending abnormality detection to the rules alone or the embedded model alone."""
    embedded = load_routing("embedded")
    if arm == "rules":
        models = {RULES: {"kind": RULES}}
    else:
        # the routing's own model for the task, else its entry with the adapter trained on these labels
        found = [embedded.model_for(t) for t in ("abnormality_detection", *embedded.tasks)]
        key, entry = found[0] or next((f for f in found if f and any(
            os.path.basename(a.path) == REAL_DATA_ADAPTER for a in f[1].adapters)), (None, None))
        if entry is None:
            raise SystemExit(f"the embedded routing sends no task to a model with {REAL_DATA_ADAPTER}: "
                             "no model-alone arm to run")
        models = {key: entry.model_dump(mode="json", exclude={"sha256"}) | {
            "adapters": [{"path": a.path} for a in entry.adapters]}}
    with open(path, "w") as fh:
        yaml.safe_dump({"name": f"iu-{arm}", "models": models,
                        "tasks": {"abnormality_detection": next(iter(models))}}, fh)
    return path


def run_store(export: str, out: str, routing: str, tasks: str) -> tuple[OutputStore, float]:
    """One `radlite run` of the export: its output store, and reports/s."""
    config = RunConfig(inputs=expand_inputs([export], None, ColumnMapping()), out=out,
                       tasks=TaskOptions(tasks=tasks, routing=routing, allow_unvalidated=False))
    start = time.perf_counter()
    summary = run_etl(config)
    return OutputStore(out), summary.accepted / (time.perf_counter() - start)


def report_keys(store: OutputStore) -> dict[str, str]:
    """report_id -> NegBio key (the export's id column)."""
    return {r["report_id"]: r["locator"].removeprefix("id=") for r in store.read_table("reports").to_pylist()}


def run_arm(export: str, out: str, routing: str, tasks: str) -> tuple[dict[str, set[str]], float, OutputStore]:
    """Labels per report (NegBio key) from one `radlite run`, and reports/s."""
    store, rate = run_store(export, out, routing, tasks)
    key_of = report_keys(store)
    labels: dict[str, set[str]] = {key: set() for key in key_of.values()}
    for row in store.read_table("abnormalities").to_pylist():
        if row["valid"] and is_positive(row["finding"], row["status"]):
            labels[key_of[row["report_id"]]].add(row["finding"])
    return labels, rate, store


def entity_claims(store: OutputStore) -> tuple[list[tuple[str, Claim]], int, int]:
    """(NegBio key, claim) of every published entity row that claims a finding NegBio covers, and of the
    published rows naming an entity: how many, how many grounded. The span read for context is the row's
    evidence (where the extractor found the words), else its start/end."""
    key_of = report_keys(store)
    text_of = {r["report_id"]: r["text"] for r in store.read_table("reports", ["report_id", "text"]).to_pylist()}
    rows = [r for r in store.read_table("entities").to_pylist() if r["text"]]
    claims = []
    for r in rows:
        start, end = ((r["evidence_start"], r["evidence_end"]) if r["evidence_start"] is not None
                      else (r["start"], r["end"]))
        claim = entity_claim(r["text"], r["label"], text_of[r["report_id"]], start, end)
        if claim:
            claims.append((key_of[r["report_id"]], claim))
    return claims, len(rows), sum(r["grounded"] is True for r in rows)


def claims_arm(export: str, out: str, chosen: list[tuple[str, dict]], gold: dict[str, set[str]]
               ) -> tuple[dict[str, ClaimAgreement], int, int]:
    """The entities arm: the published entity rows' claims (the `embedded` routing as shipped) and the
    keyword baseline's, scored against the gold; and the published rows naming an entity, grounded."""
    store, _ = run_store(export, out, "embedded", "radiology_ner")
    claims, rows, grounded = entity_claims(store)
    keyword = [(key, claim) for key, row in chosen for claim in keyword_claims(report_text(row))]
    claimed = {"entities": claim_agreement(claims, gold), "keyword baseline": claim_agreement(keyword, gold)}
    return claimed, rows, grounded


def agreement_cells(agreement: ClaimAgreement) -> tuple[str, str]:
    """Present and absent claims as 'agree/n = share (95% CI low-high)' (Wilson)."""
    cells = []
    for hits, n in ((agreement.present_agree, agreement.present), (agreement.absent_agree, agreement.absent)):
        low, high = wilson(hits, n) if n else (0.0, 0.0)
        cells.append(f"{hits}/{n} = {hits / n if n else 0.0:.3f} (95% CI {low:.3f}-{high:.3f})")
    return cells[0], cells[1]


def agreement_figures(arm: str, agreement: ClaimAgreement) -> dict[str, float]:
    """The ledger's figures for one arm's claims: n, share agreeing and its Wilson interval, per kind."""
    figures: dict[str, float] = {}
    for kind, hits, n in (("present", agreement.present_agree, agreement.present),
                          ("absent", agreement.absent_agree, agreement.absent)):
        low, high = wilson(hits, n) if n else (0.0, 0.0)
        name = f"{arm} {kind} claims agreeing with NegBio"
        figures |= {f"{name} n": n, name: round(hits / n, 4) if n else 0.0, f"{name} CI95 low": round(low, 4),
                    f"{name} CI95 high": round(high, 4)}
    return figures


def ungrounded_model_rows(store: OutputStore) -> dict[str, tuple[int, int]]:
    """Per table: (model-written rows that point at evidence, of them not found in the report)."""
    shares = {}
    for table in GROUNDED_TABLES:
        rows = [r for r in store.read_table(table).to_pylist()
                if r["valid"] and r["grounded"] is not None and not r["model_id"].startswith("radlite-rules")]
        shares[table] = (len(rows), sum(not r["grounded"] for r in rows))
    return shares


def entity_lines(claimed: dict[str, ClaimAgreement], rows: int, grounded: int) -> list[str]:
    """The entity claims' markdown section; each arm's line printed too."""
    lines = ["", "Entity claims of the eight findings NegBio covers, against NegBio's gold for that report "
             "(a present claim agrees when the finding is gold-positive, an absent one when it is not; "
             "Wilson 95% intervals, entity rows as the unit):", "",
             "| arm | present claims agreeing | absent claims agreeing | uncertain claims (not scored) |",
             "|---|---|---|---|"]
    for arm, agreement in claimed.items():
        present, absent = agreement_cells(agreement)
        name = "entities (`embedded` as shipped, radiology_ner)" if arm == "entities" else arm
        lines.append(f"| {name} | {present} | {absent} | {agreement.uncertain} |")
        print(f"{arm}: present claims {present}; absent claims {absent}; uncertain {agreement.uncertain}",
              flush=True)
    share = grounded / rows if rows else 0.0
    lines += ["", f"Published entity rows grounded: {grounded}/{rows} ({share:.1%})"]
    print(f"published entity rows grounded: {grounded}/{rows} ({share:.1%})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--split", choices=["validation", "dev", "test"], default="validation",
                        help="validation (alias dev): the 3,080 reports off the test list; test: NegBio's 771 "
                             "(recorded in the test-split ledger).")
    parser.add_argument("--limit", type=int, help="Score only the first N reports of the split.")
    parser.add_argument("--model-limit", type=int, help="Arms that run a language model (model, routed) score "
                                                        "only the first N reports (a CPU runs ~1 report/s).")
    parser.add_argument("--arms", default="keywords,rules,model,routed,entities")
    parser.add_argument("--out", help="Also write the figures as markdown to this file.")
    parser.add_argument("--ledger", help=f"Append this run to this ledger (any split); default: test runs only, "
                                         f"to {os.path.relpath(LEDGER, ROOT)}.")
    args = parser.parse_args()
    args.split = "validation" if args.split == "dev" else args.split
    gold = gold_labels(args.data)
    chosen = [(key, row) for key, _, row in split_reports(args.data, args.split)][:args.limit]
    lines = [f"# CheXpert labels on IU X-ray ({args.split} split: {len(chosen)} real reports) vs NegBio's gold", "",
             f"Command: `python benchmarks/quality_iu.py --split {args.split}"
             + (f" --limit {args.limit}" if args.limit else "")
             + (f" --model-limit {args.model_limit}" if args.model_limit else "") + "`"]
    arms = args.arms.split(",")
    labelled = [arm for arm in arms if arm != "entities"]
    if labelled:
        lines += ["", "| arm | reports | " + " | ".join(MAPPED_LABELS) + " | micro-F1 | 95% CI | reports/s |",
                  "|---|---|" + "---|" * (len(MAPPED_LABELS) + 3)]
    grounding = None
    claimed: dict[str, ClaimAgreement] = {}
    entity_rows: list[int] = []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        export = os.path.join(work, "iu.csv")
        write_export([row for _, row in chosen], export)
        model_export = os.path.join(work, "iu-model.csv")
        write_export([row for _, row in chosen][:args.model_limit], model_export)
        for arm in arms:
            scored = chosen[:args.model_limit] if arm in ("model", "routed") else chosen
            if arm == "entities":
                claimed, *entity_rows = claims_arm(export, os.path.join(work, arm), chosen, gold)
                for name, agreement in claimed.items():
                    figures |= agreement_figures(name, agreement)
                continue
            if arm == "keywords":
                start = time.perf_counter()
                predicted = {key: keyword_labels(report_text(row)) for key, row in chosen}
                rate = len(chosen) / (time.perf_counter() - start)
            elif arm == "routed":
                predicted, rate, store = run_arm(model_export, os.path.join(work, arm), "embedded",
                                                 "abnormality_detection,temporal_comparison,radiology_ner")
                grounding = ungrounded_model_rows(store)
            else:
                predicted, rate, _ = run_arm(model_export if arm == "model" else export, os.path.join(work, arm),
                                             abnormality_routing(arm, os.path.join(work, f"{arm}.yaml")),
                                             "abnormality_detection")
            per_label, micro = scores(predicted, gold)
            low, high = micro_f1_ci(predicted, gold)
            name = f"{arm} micro-F1" + (f" (first {len(scored)})" if len(scored) != len(chosen) else "")
            figures |= {name: micro, f"{name} CI95 low": round(low, 4), f"{name} CI95 high": round(high, 4)}
            cells = " | ".join(f"{f1:.2f} ({p:.2f}/{r:.2f})" for p, r, f1, _ in per_label.values())
            lines.append(f"| {arm} | {len(scored)} | {cells} | **{micro:.4f}** | {low:.3f}-{high:.3f} | {rate:.1f} |")
            print(f"{arm:9s} n={len(scored)} micro-F1 {micro:.4f} (95% CI {low:.3f}-{high:.3f})  "
                  f"{rate:8.1f} reports/s  "
                  + "  ".join(f"{label} {f1:.2f}" for label, (_, _, f1, _) in per_label.items()), flush=True)
    if labelled:
        support = scores({key: set() for key, _ in chosen}, gold)[0]
        lines += ["", "Cells: F1 (precision/recall). Support: " + ", ".join(f"{k} {v[3]}" for k, v in support.items())]
    if grounding:
        lines += ["", "Routed arm, rows written by the language model whose evidence is not in the report:", ""]
        for table, (n, ungrounded) in grounding.items():
            share = ungrounded / n if n else 0.0
            lines.append(f"- {table}: {ungrounded}/{n} ungrounded ({share:.1%})")
            print(f"ungrounded model rows in {table}: {ungrounded}/{n} ({share:.1%})")
    if claimed:
        lines += entity_lines(claimed, *entity_rows)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    if args.split == "test" or args.ledger:
        count = record_scoring("quality_iu", len(chosen), figures, path=args.ledger or LEDGER, split=args.split)
        print(f"ledger {args.ledger or os.path.relpath(LEDGER, ROOT)}: {count} scorings recorded")


if __name__ == "__main__":
    main()
