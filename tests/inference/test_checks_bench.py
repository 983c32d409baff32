"""benchmarks/checks_bench.py measures on IU X-ray's validation split only, attributes the constrained
grammars it times to the report-span constraint, and leaves the library as it found it."""

import os

from conftest import ROOT

from benchmarks.checks_bench import Clock, has_span_rules, timing, validation_slice
from radlite.inference import runner
from radlite.inference.batch import BatchDecoder
from radlite.inference.engine import LoadedModel
from radlite.report import build_report
from radlite.tasks import TASKS

#: Open-i's published CSV and NegBio's test-list format, hand-written rows (tests/fixtures/sources/openi).
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "sources", "openi")
REPORTS, TEST_LIST = os.path.join(FIXTURE, "indiana_reports.csv"), os.path.join(FIXTURE, "openi-testset.txt")


def test_the_slice_draws_no_report_of_the_test_list():
    everything = validation_slice(REPORTS, TEST_LIST, 100)
    keys = [f"CXR{row['uid']}" for row in everything]
    assert keys == ["CXR1", "CXR3", "CXR4", "CXR6"]  # CXR2 and CXR5 are on the fixture's test list
    assert [row["uid"] for row in validation_slice(REPORTS, TEST_LIST, 2)] == ["1", "3"]


def test_a_grammar_holds_span_rules_only_when_the_instance_carries_the_report():
    report = build_report("synthetic", "bench", "FINDINGS: Small left pleural effusion.\nIMPRESSION: Effusion.")
    ner = TASKS["radiology_ner"]
    instance = ner.instances(report)[0]
    assert has_span_rules(ner.answer_format(instance).grammar)
    assert not has_span_rules(ner.answer_format(None).grammar)
    assert not has_span_rules(None)


def test_timing_restores_every_function_it_wrapped():
    before = (runner.supported, runner.withheld_columns, LoadedModel.generate_groups, BatchDecoder._advance,
              BatchDecoder._chain, "ground" in TASKS["radiology_ner"].__dict__)
    with timing(Clock()):
        assert runner.supported is not before[0] and "ground" in TASKS["radiology_ner"].__dict__
    after = (runner.supported, runner.withheld_columns, LoadedModel.generate_groups, BatchDecoder._advance,
             BatchDecoder._chain, "ground" in TASKS["radiology_ner"].__dict__)
    assert after == before
