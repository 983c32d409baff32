"""The evaluation sets `radlite train route` prefers: real text nobody here tuned a model to, else text
written by hand; every set says which (its ``Evidence``).

    python -m training.eval.evidence_sets --data ../shared/data --out /tmp/evidence-sets

writes ``real.jsonl`` and ``written.jsonl`` (instruction records for `radlite train eval --split`):

- real: the project's IU X-ray gold (``training/gold/iu-xray``, pass 1: NER, QA, NLI, temporal), IU's
  own impressions (impression generation) and NegBio's hand labels (abnormality detection), all from
  reports off NegBio's test list. ``real.jsonl`` holds IU text (CC BY-NC-ND 4.0): write it outside the
  repository, never commit it.
- written: the hand-written CT/MR reports of the rule tests (RADS, N and M stages), labelled before
  the code ran (tests/fixtures/rads_computed, tests/fixtures/oncology): no public real text exists.
"""

from __future__ import annotations

import argparse
import json
import os
import random

import yaml

from radlite.tasks import TASKS
from radlite.tasks.ner import Entity as NerEntity
from radlite.tasks.ner import NerResult
from radlite.tasks.nli import NliResult
from radlite.tasks.qa import NOT_STATED, QaResult
from radlite.tasks.rads import normalize_rads
from radlite.tasks.staging import StageResult
from radlite.tasks.temporal import Change, TemporalResult
from training.data.records import InstructionRecord, Tier
from training.data.sources.openi import SOURCE, iu_xray, read_gold
from training.eval.gold import (
    HypothesisSpan,
    NerGold,
    NliGold,
    QaGold,
    SpanAnswer,
    TemporalGold,
    load_gold,
)
from training.eval.negbio import split_reports
from training.eval.records import Evidence

#: Source name of the hand-written records: their evidence is "written".
WRITTEN_SOURCE = "written"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLD = os.path.join(ROOT, "training", "gold", "iu-xray")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
#: Reports drawn for the sets with no project gold (impressions, NegBio labels): the NER gold's size.
DRAWN_REPORTS, DRAW_SEED = 100, 33


def evidence_of(record: InstructionRecord) -> Evidence:
    """Which kind of text a record's reference was made on."""
    if record.synthetic:
        return "synthetic"
    return "written" if record.source == WRITTEN_SOURCE else "real"


def _real(uid: str, task: str, input: str, output: str, **extra) -> InstructionRecord:
    return InstructionRecord(id=f"{SOURCE}-gold:{uid}:{task}", task=task, input=input, output=output, source=SOURCE,
                             tier=Tier.GOLD, split="validation", report_key=f"CXR{uid}", **extra)


def ner_record(line: NerGold, text: str) -> InstructionRecord:
    entities = [NerEntity(text=text[e.start:e.end], label=e.label)
                for e in sorted(line.entities, key=lambda e: e.start)]
    return _real(line.uid, "radiology_ner", text, TASKS["radiology_ner"].answer(NerResult(entities=entities)))


def temporal_record(line: TemporalGold, text: str) -> InstructionRecord:
    """The whole report as input (the pipeline sees it; the task's prompt takes the findings)."""
    changes = [Change(finding=text[s.finding_start:s.finding_end], change=s.change)
               for s in sorted(line.statements, key=lambda s: s.finding_start)]
    return _real(line.uid, "temporal_comparison", text,
                 TASKS["temporal_comparison"].answer(TemporalResult(changes=changes)))


def qa_record(line: QaGold, text: str) -> InstructionRecord:
    """The reference in the task's answer format: the gold span's words, yes / no, or 'not stated'."""
    answer = (text[line.answer.start:line.answer.end] if isinstance(line.answer, SpanAnswer)
              else NOT_STATED if line.answer.type == "not_stated" else line.answer.type)
    record = _real(line.uid, "radiology_qa", line.question, TASKS["radiology_qa"].answer(QaResult(answer=answer)),
                   context={"question": line.question, "report": text})
    return record.model_copy(update={"id": f"{record.id}:{line.question_id}"})


def nli_record(line: NliGold, text: str) -> InstructionRecord:
    premise = text[line.premise_start:line.premise_end]
    hypothesis = (text[line.hypothesis.start:line.hypothesis.end] if isinstance(line.hypothesis, HypothesisSpan)
                  else line.hypothesis.text)
    record = _real(line.uid, "radiology_nli", premise, TASKS["radiology_nli"].answer(NliResult(label=line.label)),
                   context={"premise": premise, "hypothesis": hypothesis})
    return record.model_copy(update={"id": f"{record.id}:{line.pair_index}"})


def gold_records(csv_path: str, test_list: str) -> list[InstructionRecord]:
    """One record per pass-1 gold item; temporal only for reports with a comparison (where the task runs)."""
    out: list[InstructionRecord] = []
    for name, make in (("ner", ner_record), ("qa", qa_record), ("nli", nli_record), ("temporal", temporal_record)):
        for line, text in load_gold(name, os.path.join(GOLD, f"{name}.jsonl"), csv_path, test_list):
            if line.pass_ == 1 and (name != "temporal" or line.has_comparison):
                out.append(make(line, text))
    return out


def iu_records(data_dir: str, size: int = DRAWN_REPORTS, seed: int = DRAW_SEED) -> list[InstructionRecord]:
    """Impression generation (IU's own impressions) and abnormality detection (NegBio's hand labels for
    positive-vs-not on nine labels, the rules' reading for the rest: training/data/sources/openi.py) on
    ``size`` reports drawn from NegBio's validation split (never its test list)."""
    keys = {key for key, _, _ in split_reports(data_dir, "validation")}
    gold = read_gold(os.path.join(data_dir, "negbio", "openi_gld_std14.csv"))
    records = [r for r in iu_xray(os.path.join(data_dir, "iu-xray", "indiana_reports.csv"), gold)
               if r.report_key in keys and r.task in ("impression_generation", "abnormality_detection")]
    out = []
    for task in ("impression_generation", "abnormality_detection"):
        pool = sorted((r for r in records if r.task == task), key=lambda r: r.id)
        out += [r.model_copy(update={"split": "validation"})
                for r in random.Random(seed).sample(pool, min(size, len(pool)))]
    return out


def _written(id: str, task: str, text: str, output: str) -> InstructionRecord:
    return InstructionRecord(id=f"{WRITTEN_SOURCE}:{id}:{task}", task=task, input=text, output=output,
                             source=WRITTEN_SOURCE, tier=Tier.GOLD, split="validation")


def _jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _yaml(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def written_records(fixtures: str = FIXTURES) -> list[InstructionRecord]:
    """RADS (computed, stated and insufficient reports: "No applicable RADS"), N (N0-N3 as labelled; an
    N+ or open label has no N0-N3 answer) and M (M0/M1) from the hand-written fixtures."""
    rads, onc = os.path.join(fixtures, "rads_computed"), os.path.join(fixtures, "oncology")
    answer = TASKS["rads_assignment"].answer
    out = [_written(r["id"], "rads_assignment", r["text"], answer(normalize_rads(r["expected"])))
           for name in ("reports.jsonl", "stated.jsonl") for r in _jsonl(os.path.join(rads, name))]
    out += [_written(r["id"], "rads_assignment", r["text"], answer(normalize_rads("No applicable RADS")))
            for r in _jsonl(os.path.join(rads, "insufficient.jsonl"))]
    reports = [r for name in ("n_category_reports", "n_category_heldout_reports", "node_metastasis_reports",
                              "two_primaries_reports") for r in _yaml(os.path.join(onc, f"{name}.yaml"))]
    out += [_written(r["id"], "n_staging", r["text"], TASKS["n_staging"].answer(StageResult(n_stage=r["n"])))
            for r in reports if r.get("n") in TASKS["n_staging"].stages]
    out += [_written(r["id"], "m_staging", r["text"], TASKS["m_staging"].answer(StageResult(m_stage=r["m"])))
            for r in reports if r.get("m") in TASKS["m_staging"].stages]
    return out


def write_split(records: list[InstructionRecord], path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(r.model_dump_json() + "\n" for r in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--out", required=True, help="folder for real.jsonl and written.jsonl (outside the repository)")
    args = parser.parse_args()
    csv_path = os.path.join(args.data, "iu-xray", "indiana_reports.csv")
    test_list = os.path.join(args.data, "negbio", "openi-testset.txt")
    os.makedirs(args.out, exist_ok=True)
    for name, records in (("real", gold_records(csv_path, test_list) + iu_records(args.data)),
                          ("written", written_records())):
        write_split(records, os.path.join(args.out, f"{name}.jsonl"))
        counts = {t: sum(r.task == t for r in records) for t in dict.fromkeys(r.task for r in records)}
        print(f"{name}: {len(records)} records {json.dumps(counts)}")


if __name__ == "__main__":
    main()
