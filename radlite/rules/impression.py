"""An extractive impression for chest radiographs: the findings' own abnormal sentences, verbatim.

The embedded 135M model's generated impressions score below simply writing the commonest impression
for every report (docs/embedded-model/test-eval). A radiologist's impression of a chest radiograph
restates what is abnormal and, when nothing acute is seen, says so; this does the same from what the
rules read: every sentence of the findings that states a CheXpert pathology (positive or uncertain),
in text order and copied unchanged, so each one can be found in the report; then the normal statement
unless one of those pathologies is an acute cardiopulmonary process. Reports that are not chest
radiographs get no answer and a cascade asks the model.
"""

from __future__ import annotations

from radlite import chexpert
from radlite.report import Report, reads_like_chest_radiograph
from radlite.text.sentences import sentence_bounds
from radlite.text.spans import FINDING_SECTIONS, finding_spans

#: The normal statement: the commonest impression of the IU X-ray training split (140 of its 1,901
#: real impressions; training/eval/trivial.py most_frequent_output), also the usual phrase.
NORMAL_IMPRESSION = "No acute cardiopulmonary abnormality."
#: Pathologies that make a radiograph's impression "acute"; the others (cardiomegaly, a nodule,
#: scarring, atelectasis, an old fracture) are stated alongside "no acute abnormality". Chosen among a
#: few sets on the training split's impressions only; there, ROUGE-L 0.414 against 0.379 for always
#: writing the commonest impression (`radlite train model-table impression_generation --name rules
#: --rules only --out rules.yaml`, then `radlite train eval --routing rules.yaml --split
#: data/train.jsonl --trivial-from data/train.jsonl --out train-rules`).
ACUTE = frozenset({"pneumonia", "edema", "pleural effusion", "pneumothorax", "consolidation"})
#: The impression must not read itself: every finding section but the impression.
SECTIONS = tuple(s for s in FINDING_SECTIONS if s != "impression")


def applies(report: Report) -> bool:
    """Radiographs (or no stated modality) of the chest: its stated region, or no region, or text that
    reads like a chest radiograph's (a bare findings text that mentions the thoracic spine first)."""
    return report.modality in ("XR", "unknown") and (
        report.body_region in ("chest", "unknown") or reads_like_chest_radiograph(report.text))


def abnormal_sentences(report: Report) -> tuple[list[tuple[int, int]], bool]:
    """Spans of the findings sentences stating a pathology (text order, each once), and whether one is acute."""
    stated = [m for m in chexpert.mentions(report, SECTIONS)
              if m.label in chexpert.PATHOLOGIES and m.status in ("positive", "uncertain")]
    sections = finding_spans(report, SECTIONS)
    spans: list[tuple[int, int]] = []
    for mention in stated:
        left, right = sentence_bounds(report.text, mention.start, mention.end, lines=True)
        start, end = next((s, e) for s, e in sections if s <= mention.start < e)
        left, right = max(left, start), min(right, end)  # a section header is not part of its sentence
        if (left, right) not in spans:
            spans.append((left, right))
    return spans, any(m.label in ACUTE for m in stated)


def extractive_impression(report: Report) -> str | None:
    """The impression for a chest radiograph's findings; None when the report is not one."""
    if not applies(report):
        return None
    spans, acute = abnormal_sentences(report)
    sentences = [report.text[s:e].strip().rstrip(".") + "." for s, e in spans]
    return " ".join(sentences if acute else [*sentences, NORMAL_IMPRESSION])
