"""The assertion engine on sentences written for it (tests/fixtures/assertion/sentences.tsv): every
construction the engine claims, in chest, abdomen, neuro, breast and oncology phrasing, 100% right."""

from __future__ import annotations

import csv
import os
import re
from collections import Counter

import pytest

from radlite.text.assertion import assert_mention, assert_mentions

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "assertion", "sentences.tsv")


def _rows() -> list[dict]:
    with open(FIXTURE, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))


ROWS = _rows()


def _span(sentence: str, finding: str) -> tuple[int, int]:
    m = re.search(re.escape(finding), sentence, re.I)
    assert m, f"{finding!r} is not in {sentence!r}"
    return m.start(), m.end()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['domain']}-{r['construction']}-{r['finding']}" for r in ROWS])
def test_fixture_sentence(row):
    start, end = _span(row["sentence"], row["finding"])
    got = assert_mention(row["sentence"], start, end)
    flags = set() if row["flags"] == "-" else set(row["flags"].split(","))
    assert (got.status, got.historical, got.hypothetical) == (
        row["status"], "historical" in flags, "hypothetical" in flags), got


def test_fixture_size_and_coverage():
    """At least 150 sentences, every domain, and every construction the engine documents."""
    assert len(ROWS) >= 150
    domains = Counter(r["domain"] for r in ROWS)
    assert set(domains) == {"chest", "abdomen", "neuro", "breast", "oncology"} and min(domains.values()) >= 20
    constructions = {r["construction"] for r in ROWS}
    for needed in ("negation", "negation post", "no new", "pseudo-negation", "termination", "denied negation",
                   "denied negation list", "versus", "vs", "vs.", "or", "and/or", "either or", "unsure whether",
                   "differential", "hedge", "hedge after", "historical", "hypothetical", "size or",
                   "denied negation scope", "hedge termination", "cause or", "clinical setting", "uncertain etiology",
                   "negation closed"):
        assert needed in constructions, needed


def test_a_mention_in_a_report_reads_only_its_own_sentence():
    text = "FINDINGS: No pneumothorax. Atelectasis versus pneumonia at the left base.\nIMPRESSION: Pneumonia."
    spans = [_span(text, "pneumothorax"), _span(text, "Atelectasis"), (text.rindex("Pneumonia"), len(text) - 1)]
    assert [a.status for a in assert_mentions(text, spans)] == ["absent", "uncertain", "present"]


def test_the_assertion_names_the_words_that_decided_it():
    text = "Small effusion. Metastatic disease cannot be excluded."
    got = assert_mention(text, *_span(text, "Metastatic disease"))
    assert got.rule == "denied negation" and text[got.cue_start:got.cue_end] == "cannot be excluded"
    plain = assert_mention(text, *_span(text, "effusion"))
    assert plain.rule == "default" and plain.cue_start is None
    closed = "No suspicious mass is identified, possible cyst in the left breast."
    hedged = assert_mention(closed, *_span(closed, "cyst"))
    assert hedged.rule == "hedge" and closed[hedged.cue_start:hedged.cue_end] == "possible"


def test_chexpert_labels_follow_the_engine():
    from radlite.chexpert import label_report
    from radlite.report import build_report

    labels = label_report(build_report("t", "r", "FINDINGS: Right middle lobe atelectasis versus pneumonia. "
                                                 "No new focal consolidation."))
    assert labels["atelectasis"].status == labels["pneumonia"].status == "uncertain"
    assert labels["consolidation"].status == "negative"
