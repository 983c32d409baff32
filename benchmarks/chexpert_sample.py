"""Agreement of radlite's rule labels with the CheXpert labeler's own output on its published sample.

    python benchmarks/chexpert_sample.py

The sample (tests/fixtures/chexpert-sample/, MIT, see PROVENANCE.md) is 4 impressions with the
labeler's 14 labels each. Every report is read as an impression; per label the printed agreement is
the share of the 4 reports where radlite's status (positive, negative, uncertain, not_mentioned)
equals the labeler's, and the total is over all 4 x 14 cells.
"""

from __future__ import annotations

import csv
import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from radlite.chexpert import label_report  # noqa: E402
from radlite.report import build_report  # noqa: E402

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures",
                      "chexpert-sample", "labeled_reports.csv")
_STATUS = {"1.0": "positive", "0.0": "negative", "-1.0": "uncertain", "": "not_mentioned"}


def sample_cells(path: str = SAMPLE) -> list[tuple[str, str, str, str]]:
    """(report, label, labeler's status, radlite's status) for every report and label of the sample."""
    cells = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = row.pop("Reports")
            ours = label_report(build_report("chexpert-sample", text[:20], f"IMPRESSION: {text}"))
            for column, value in row.items():
                mention = ours[column.lower()]
                cells.append((text, column, _STATUS[value], mention.status if mention else "not_mentioned"))
    return cells


def agreement(cells) -> dict[str, float]:
    """Per label, and ``all``, the share of cells where both say the same."""
    by_label: dict[str, list[bool]] = {}
    for _, label, theirs, ours in cells:
        by_label.setdefault(label, []).append(theirs == ours)
    shares = {label: sum(v) / len(v) for label, v in by_label.items()}
    shares["all"] = sum(theirs == ours for _, _, theirs, ours in cells) / len(cells)
    return shares


def main() -> None:
    cells = sample_cells()
    for label, share in agreement(cells).items():
        print(f"{label:28s} {share:.2f}")
    for text, label, theirs, ours in cells:
        if theirs != ours:
            print(f"differs: {label}: labeler {theirs}, radlite {ours} in {text[:70]!r}")


if __name__ == "__main__":
    main()
