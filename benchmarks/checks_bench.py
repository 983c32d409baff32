"""What the report-span constraint and the value checks cost beside the model, on real reports (not a test).

    python benchmarks/checks_bench.py --data ../shared/data [--reports 50] [--profile FILE]

One `radlite run` (in process, the built-in ``embedded`` routing, every task where it applies, the
sample registry questions, an empty result cache) over the first ``--reports`` reports of IU X-ray's
validation split: Open-i's reports off NegBio's 771-report test list (training.eval.negbio), written
to a temporary CSV export (IU text never leaves DATA and the temporary folder). The library's own
functions are timed where the run calls them, so the shares are of one run's work:

- model step: every ``generate_groups`` call (tokenizing, llama.cpp evaluating and sampling);
- span constraint: building the report-span rules (``span_rules``, when a prompt is rendered), and
  inside the model step the grammar work of every prompt whose grammar holds them: its sampler made
  (llama.cpp parses the grammar there) and each of its tokens sampled under the grammar (an upper
  bound: sampling a token without a grammar costs something too);
- checks: grounding (``Task.ground``, ``evidence_columns``), support (``supported``), assertion
  (``assertion_owned``) and withholding (``not_applicable``, ``withheld_columns``), on every row of
  every table with evidence, rules' rows included.

Printed as one block to paste: reports/s, model tokens/s (prompt tokens llama.cpp evaluated and
answer tokens, over the model time), the share of the run's wall time in the model, the constraint,
the checks and the rest (reading, rules, writing), the constraint's cost per report and per token,
and last ``constraint + checks: <percent>% of model time`` (model time = the model step less the
constraint's work inside it; the issue's target is at most 10%). ``--profile`` also writes the run's
cProfile statistics (cProfile slows Python code, so the shares printed in that mode are not the ones
to quote).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import functools
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import radlite.tasks.base as task_base  # noqa: E402
import radlite.tasks.qa as task_qa  # noqa: E402
from pipelines.options import TaskOptions  # noqa: E402
from pipelines.run import RunConfig, run_etl  # noqa: E402
from radlite.inference import runner  # noqa: E402
from radlite.inference.batch import BatchDecoder  # noqa: E402
from radlite.inference.engine import LoadedModel  # noqa: E402
from radlite.io.inputs import ColumnMapping, expand_inputs  # noqa: E402
from radlite.tasks import TASKS  # noqa: E402
from training.data.sources.openi import read_reports, read_test_ids, report_text  # noqa: E402

QUESTIONS = os.path.join(ROOT, "sample_data", "questions.yaml")
#: The checks the pipeline makes on every answered row (radlite.inference.runner's names).
CHECKS = {"evidence_columns": "grounding", "supported": "support", "assertion_owned": "assertion",
          "not_applicable": "withholding", "withheld_columns": "withholding"}
#: The first line of the rules ``span_rules`` writes (radlite.tasks.report_span_grammar).
SPAN_RULE = "span ::= "


def validation_slice(reports_csv: str, test_list: str, n: int) -> list[dict]:
    """The CSV rows of the first ``n`` IU X-ray reports (with findings or an impression) that are not on
    NegBio's test list: the validation split training.eval.negbio scores as ``validation``."""
    test_ids = read_test_ids(test_list)
    return [row for key, _, row in read_reports(reports_csv) if key not in test_ids][:n]


def write_export(rows: list[dict], path: str) -> None:
    """The reports as a CSV export (id, text), the layout `radlite run` reads."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text"])
        writer.writerows([f"CXR{row['uid']}", report_text(row)] for row in rows)


def has_span_rules(grammar: str | None) -> bool:
    """Whether a prompt's grammar holds report-span rules (it is the constrained composition)."""
    return grammar is not None and (grammar.startswith(SPAN_RULE) or f"\n{SPAN_RULE}" in grammar)


class Clock:
    """Seconds and calls per named part of the run, added up by the wrappers ``timing`` installs."""

    def __init__(self):
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def wrap(self, part: str, fn, when=None):
        """``fn`` timed into ``part`` (only the calls where ``when(*args)`` is true, when given)."""
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if when is not None and not when(*args):
                return fn(*args, **kwargs)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - start
                self.calls[part] += 1
        return timed


@contextlib.contextmanager
def timing(clock: Clock):
    """The library's functions wrapped by ``clock`` for the duration; restored after."""
    patches = [(runner, name, f"check: {part}") for name, part in CHECKS.items()]
    patches += [(task_base, "span_rules", "constraint: build"), (task_qa, "span_rules", "constraint: build")]
    patches += [(LoadedModel, "generate_groups", "model step")]
    patches += [(task, "ground", "check: grounding") for task in TASKS.values()]
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in patches]
    for owner, name, part in patches:
        setattr(owner, name, clock.wrap(part, getattr(owner, name)))
    decoder = {"_chain": lambda self, request: has_span_rules(request.grammar),
               "_advance": lambda self, seq, index: has_span_rules(seq.request.grammar)}
    saved += [(BatchDecoder, name, BatchDecoder.__dict__[name]) for name in decoder]
    for name, when in decoder.items():
        setattr(BatchDecoder, name, clock.wrap(f"constraint: {name}", BatchDecoder.__dict__[name], when))
    try:
        yield clock
    finally:
        for owner, name, original in saved:
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def run_slice(export: str, out: str, profile: str | None):
    """One `radlite run` of the export (embedded routing, every applicable task), timed: (summary, Clock)."""
    config = RunConfig(inputs=expand_inputs([export], None, ColumnMapping()), out=out,
                       tasks=TaskOptions(routing="embedded", questions=QUESTIONS))
    profiler = cProfile.Profile() if profile else None
    with timing(Clock()) as clock:
        if profiler:
            profiler.enable()
        summary = run_etl(config)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
    return summary, clock


def report(summary, clock: Clock, n_reports: int) -> list[str]:
    """The block to paste: throughput, shares of the wall time, and the ratio to model time."""
    wall = summary.wall_seconds
    parts = defaultdict(float)
    for name, seconds in clock.seconds.items():
        parts[name.split(":")[0]] += seconds
    in_model = clock.seconds["constraint: _chain"] + clock.seconds["constraint: _advance"]
    model = parts["model step"] - in_model
    constraint, checks = parts["constraint"], parts["check"]
    rest = wall - parts["model step"] - clock.seconds["constraint: build"] - checks
    tokens = summary.prefill_tokens + summary.completion_tokens
    lines = [f"IU X-ray validation slice: {n_reports} reports, `radlite run` (embedded routing, every applicable "
             f"task), read {summary.read}, accepted {summary.accepted}",
             f"throughput: {summary.read / wall:.2f} reports/s ({wall:.1f} s); model {tokens / model:.0f} tokens/s "
             f"({summary.prefill_tokens} prompt tokens evaluated + {summary.completion_tokens} answer tokens "
             f"in {model:.1f} s; {summary.model_instances} model answers)",
             f"wall time: model {model / wall:.1%}, constraint {constraint / wall:.1%}, "
             f"checks {checks / wall:.1%}, rest (read, rules, write) {rest / wall:.1%}",
             "rows: " + ", ".join(f"{table} {n}" for table, n in sorted(summary.rows_by_table.items()) if n)]
    for name in sorted(clock.seconds):
        lines.append(f"  {name}: {clock.seconds[name]:.3f} s in {clock.calls[name]} calls")
    per_token = in_model / max(1, clock.calls["constraint: _advance"])
    lines.append(f"constraint per report {1e3 * constraint / n_reports:.1f} ms; per constrained token "
                 f"{1e6 * per_token:.0f} us")
    lines.append(f"constraint {constraint / model:.1%} + checks {checks / model:.1%} of model time")
    lines.append(f"constraint + checks: {(constraint + checks) / model:.1%} of model time")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--profile", help="Also write the run's cProfile statistics to this file.")
    args = parser.parse_args()
    rows = validation_slice(os.path.join(args.data, "iu-xray", "indiana_reports.csv"),
                            os.path.join(args.data, "negbio", "openi-testset.txt"), args.reports)
    with tempfile.TemporaryDirectory() as work:
        export = os.path.join(work, "iu.csv")
        write_export(rows, export)
        summary, clock = run_slice(export, os.path.join(work, "out"), args.profile)
    print("\n".join(report(summary, clock, len(rows))))


if __name__ == "__main__":
    main()
