"""External check: the CheXpert labeler's published sample and its own labels (MIT; see
tests/fixtures/chexpert-sample/PROVENANCE.md). Figures: `python benchmarks/chexpert_sample.py`."""

from __future__ import annotations

from benchmarks.chexpert_sample import agreement, sample_cells


def test_the_thirteen_finding_labels_agree_with_the_chexpert_labeler_on_its_sample():
    cells = sample_cells()
    assert len(cells) == 4 * 14
    shares = agreement(cells)
    print({label: round(share, 2) for label, share in shares.items()})
    findings = [label for label in shares if label not in ("No Finding", "all")]
    assert all(shares[label] == 1.0 for label in findings), shares
    # the sample's differential ("may reflect atelectasis or consolidation") is uncertain for both
    uncertain = {(label, ours) for text, label, _, ours in cells if text.startswith("Minimal patchy")}
    assert ("Atelectasis", "uncertain") in uncertain and ("Consolidation", "uncertain") in uncertain


def test_no_finding_differs_only_where_we_write_negative_for_the_labelers_blank():
    """The labeler leaves No Finding blank when a finding is stated; radlite says negative (docs/values.md)."""
    for _, label, theirs, ours in sample_cells():
        if label == "No Finding" and theirs != ours:
            assert (theirs, ours) == ("not_mentioned", "negative")
