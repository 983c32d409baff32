"""The task stage of the graph: plan tasks per report, one inference stream per routed model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import groupby

import apache_beam as beam

from pipelines.accounting import count_inference, count_rows
from pipelines.options import TaskOptions
from pipelines.rows import REPORTS, report_row
from radlite.inference.cache import ResultCache
from radlite.inference.engine import base_key, get_model
from radlite.inference.runner import InferenceCounts, rules_step, run_report_tasks
from radlite.routing import RoutingTable, load_routing
from radlite.tables import TABLES
from radlite.tasks import TASK_NAMES, TASKS, parse_task_selection, plan_tasks
from radlite.tasks.qa import load_questions

TASK_TABLES = sorted({t.table for t in TASKS.values()})


def model_streams(routing: RoutingTable) -> dict[str, str]:
    """model key -> stream name. Entries on the same base file (differing only in adapters) share a
    stream, so one worker-local base serves them all; each base file gets its own stream."""
    names: dict[tuple, str] = {}
    streams = {}
    for key in sorted({found[0] for task in routing.tasks if (found := routing.model_for(task))}):
        base = base_key(routing.models[key])
        names.setdefault(base, f"model{len(names)}")
        streams[key] = names[base]
    return streams


class _PlanFn(beam.DoFn):
    """Report -> its reports row (main), the rows the rules answer (tagged by table), and (report,
    [(model key, instance)]) on the stream of each base model for what is left to a model."""

    def __init__(self, routing: RoutingTable, selected, questions, run_id: str):
        self.routing, self.selected, self.questions, self.run_id = routing, selected, questions, run_id
        self.streams = model_streams(routing)

    def process(self, report):
        plan = plan_tasks(report, self.selected, self.questions)
        instances = [i for i in plan.instances if i.task in self.routing.tasks]
        for task in {i.task for i in plan.instances} - {i.task for i in instances}:
            plan.skipped[task] = f"not in routing table {self.routing.name}"
        yield report_row(report, self.run_id, sorted({i.task for i in instances}, key=TASK_NAMES.index), plan.skipped)
        counts = InferenceCounts()
        by_stream: dict[str, list] = {}
        for instance in instances:
            rows, model_key = rules_step(self.routing, report, instance, self.run_id, counts)
            table = TASKS[instance.task].table
            count_rows(table, rows)
            for row in rows:
                yield beam.pvalue.TaggedOutput(table, row)
            if model_key:
                by_stream.setdefault(self.streams[model_key], []).append((model_key, instance))
        count_inference(counts)
        for stream, group in by_stream.items():
            # Same-adapter tasks back to back: the report prefix is re-read only when adapters switch.
            group.sort(key=lambda pair: pair[0])
            yield beam.pvalue.TaggedOutput(stream, (report, group))


class _RunModelFn(beam.DoFn):
    """Runs every task of one base-model stream; the base is loaded once per worker process (setup)."""

    def __init__(self, stream: str, routing: RoutingTable, run_id: str, cache_path: str | None, load_model):
        self.keys = sorted(k for k, v in model_streams(routing).items() if v == stream)
        self.routing, self.run_id, self.cache_path, self.load_model = routing, run_id, cache_path, load_model

    def setup(self):
        self.models = {k: self.load_model(self.routing.models[k]) for k in self.keys}
        self.cache = ResultCache(self.cache_path) if self.cache_path else None

    def process(self, element):
        report, instances = element
        counts = InferenceCounts()
        rows = []
        for key, group in groupby(instances, key=lambda pair: pair[0]):
            rows += run_report_tasks(self.models[key], report, [i for _, i in group], self.run_id, self.cache, counts)
        count_inference(counts)
        for table, row in rows:
            count_rows(table, [row])
            yield beam.pvalue.TaggedOutput(table, row)

    def teardown(self):
        if getattr(self, "cache", None):
            self.cache.close()


class RunTasks(beam.PTransform):
    """Reports -> {table: rows} for ``reports`` and every task table.

    ``load_model(entry)`` gives the model of a routing entry in a worker (default: the process-wide
    llama.cpp model, loaded once per process); anything with ``entry``, ``identity`` and
    ``generate(prompt)`` will do.
    """

    def __init__(self, routing: RoutingTable, selected, questions, run_id: str, cache_path: str | None,
                 load_model=get_model):
        super().__init__()
        self.routing, self.selected, self.questions = routing, selected, questions
        self.run_id, self.cache_path, self.load_model = run_id, cache_path, load_model

    def expand(self, reports):
        streams = sorted(set(model_streams(self.routing).values()))
        planned = reports | "PlanTasks" >> beam.ParDo(
            _PlanFn(self.routing, self.selected, self.questions, self.run_id)).with_outputs(*streams, *TASK_TABLES,
                                                                                            main=REPORTS)
        per_table: dict[str, list] = {t: [planned[t]] for t in TASK_TABLES}  # the rules' rows
        for stream in streams:
            infer = _RunModelFn(stream, self.routing, self.run_id, self.cache_path, self.load_model)
            outputs = planned[stream] | f"Infer[{stream}]" >> beam.ParDo(infer).with_outputs(*TASK_TABLES)
            for table in TASK_TABLES:
                per_table[table].append(outputs[table])
        result = {REPORTS: planned[REPORTS]}
        for table, pcolls in per_table.items():
            result[table] = tuple(pcolls) | f"Merge[{table}]" >> beam.Flatten()
        assert set(result) <= set(TABLES)
        return result


@dataclass(frozen=True)
class TaskStage:
    """The task options resolved: routing table loaded and verified, selection and questions parsed."""

    routing: RoutingTable
    selected: tuple[str, ...] | None
    questions: tuple
    task_names: list[str]

    @classmethod
    def resolve(cls, options: TaskOptions) -> TaskStage | None:
        """None for --tasks none; raises ValueError / FileNotFoundError for bad options."""
        if options.tasks == "none":
            return None
        selected = parse_task_selection(options.tasks)
        routing = load_routing(options.routing, options.models_dir, verify=not options.allow_unvalidated)
        questions = load_questions(options.questions) if options.questions else ()
        names = list(selected) if selected is not None else list(TASK_NAMES)
        return cls(routing, selected, questions, names)

    def transform(self, run_id: str, store) -> RunTasks:
        """The graph's task stage for one run, caching results under OUT/cache."""
        return RunTasks(self.routing, self.selected, self.questions, run_id,
                        os.path.join(store.root, "cache", "results.sqlite"))
