"""RadGraph entities read off the report: observations with the assertion engine's status, anatomy from a lexicon.

RadGraph's entity labels are assertion classes: an observation is OBS-DP (definitely present), OBS-U
(uncertain) or OBS-DA (definitely absent), and anatomy is ANAT-DP. So an observation mention found by
a phrase table and read by the assertion engine (radlite.text.assertion) is a RadGraph entity, and an
anatomy mention found by a lexicon is one too; both are the report's own words, so every entity is
grounded by construction. The observation phrases are CheXpert's (radlite.chexpert.MENTIONS, the
same tables the abnormality labels use) and the broader lexicon below (chest, abdomen, neuro,
breast, oncology findings, and RadGraph's normal-state words: "normal", "clear", "unremarkable",
"enlarged"). Anatomy is a body part or region with the side and position words before it ("right
lower lobe", "left mid lung", "bibasilar"), or a side word alone ("left" in "left pleural effusion").

Only the findings section is read (the impression when there is none, the whole text when the report
has no sections): the indication asks ("rule out pneumonia") and the impression restates.

Public API::

    report_entities(report) -> list[Found]         # text order, non-overlapping
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from radlite.chexpert import MENTIONS
from radlite.report import Report
from radlite.text.assertion import assert_mention
from radlite.text.spans import finding_spans

#: CheXpert's labels whose phrases name one observation (the cardiomegaly and mediastinum phrases are
#: whole statements, "heart is enlarged": RadGraph splits them into anatomy and observation).
CHEXPERT_OBSERVATIONS = ("atelectasis", "consolidation", "edema", "fracture", "lung lesion", "lung opacity",
                         "pleural effusion", "pleural other", "pneumonia", "pneumothorax", "support devices")

#: Observations beyond CheXpert's tables (regular expressions, case-insensitive, on word boundaries).
OBSERVATIONS: tuple[str, ...] = (
    # chest
    r"cardiomegal\w*", r"enlarge(?:d|ment)", r"congesti\w*", r"granulom\w*", r"calcifi\w*", r"emphysem\w*",
    r"hyperinflat\w*", r"hyperexpan\w*", r"bronchiectas\w*", r"thickening", r"lymphadenopath\w*", r"adenopath\w*",
    r"hernia\w*", r"tortuo\w*", r"ectatic", r"aneurysm\w*", r"dissection", r"degenerative (?:changes?|disease)",
    r"spondylo\w*", r"osteophyt\w*", r"scoliosis", r"kyphosis", r"deformit\w*", r"osteopeni\w*", r"elevat\w*",
    r"blunting", r"crowding", r"hypoinflat\w*", r"low lung volumes?", r"cyst\w*", r"bullae?", r"blebs?",
    r"lesions?", r"metasta\w*", r"pneumomediastinum", r"subcutaneous emphysema", r"air[- ]fluid levels?",
    r"cavitation", r"cavit(?:y|ies)", r"embol\w*", r"infarct\w*",
    # abdomen and pelvis
    r"ascites", r"hydronephrosis", r"calcul(?:us|i)", r"stones?", r"obstruction", r"free air",
    r"pneumoperitoneum", r"diverticul\w*", r"steatosis", r"cirrho\w*", r"splenomegaly", r"hepatomegaly",
    r"appendicitis", r"cholecystitis", r"pancreatitis", r"collections?", r"abscess\w*", r"thrombos[ie]s",
    r"thrombus", r"stenos[ie]s", r"occlusion", r"dilat\w*", r"wall thickening",
    # neuro
    r"hemorrhage", r"hematoma", r"midline shift", r"hydrocephalus", r"atrophy", r"ischemi\w*",
    r"white matter (?:changes?|disease|hyperintensit\w*)", r"mass effect", r"herniation",
    # breast and oncology
    r"calcifications?", r"architectural distortion", r"asymmetr\w*", r"tumou?rs?", r"recurrence",
    # normal and descriptive states RadGraph labels as observations
    r"normal", r"abnormal\w*", r"clear", r"unremarkable", r"intact", r"stable", r"unchanged", r"patent",
    r"within normal limits", r"well[- ]expanded", r"expanded",
)

_SIDE = r"(?:right|left|bilateral(?:ly)?|both)"
_POSITION = (r"(?:upper|middle|mid|lower|medial|lateral|anterior|posterior|apical|basilar|basal|bibasilar|"
             r"perihilar|hilar|retrocardiac|superior|inferior|central|peripheral|proximal|distal|main|"
             r"subpleural|subsegmental|segmental|infrahilar|suprahilar|costophrenic|cardiophrenic|"
             r"pulmonary|thoracic|lumbar|cervical|frontal|parietal|temporal|occipital|"
             r"\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)")
#: Body parts and regions (the head of an anatomy mention).
ANATOMY: tuple[str, ...] = (
    # chest
    r"lungs?", r"lobes?", r"lingula\w*", r"apex", r"apices", r"bases?", r"hil(?:um|a)", r"heart", r"cardiac",
    r"cardiac silhouette", r"cardiomediastinal silhouette", r"mediastin\w*", r"pleura", r"pleural spaces?",
    r"costophrenic (?:angles?|sulc(?:us|i))", r"hemidiaphragms?", r"diaphragms?", r"trachea", r"carina",
    r"bronch(?:us|i)", r"aort\w*", r"vascular\w*", r"vasculature", r"ribs?", r"spine", r"vertebra\w*",
    r"clavicles?", r"sternum", r"chest", r"thorax", r"hemithorax", r"osseous structures", r"bony structures",
    r"soft tissues?", r"airspaces?", r"interstiti(?:um|al)", r"svc", r"superior vena cava", r"atri(?:um|a)",
    r"ventricles?", r"pericardi\w*", r"lymph nodes?", r"lymph", r"nodes?", r"axill\w*", r"shoulders?",
    # abdomen and pelvis
    r"abdomen", r"pelvis", r"liver", r"hepatic", r"spleen", r"kidneys?", r"renal", r"pancreas", r"gallbladder",
    r"bile ducts?", r"bowel", r"colon", r"stomach", r"bladder", r"adrenals?", r"ovar(?:y|ies)", r"uterus",
    r"prostate", r"appendix", r"segment \d+",
    # neuro, neck, breast
    r"brain", r"ventricles", r"sulci", r"cerebell\w*", r"thyroid", r"neck", r"breasts?", r"quadrant",
)


class Found(NamedTuple):
    """One entity: its words' offsets in the report text and its RadGraph label."""

    start: int
    end: int
    label: str



def _alternation(patterns) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern, re.Pattern]:
    observations = [p for label in CHEXPERT_OBSERVATIONS for p in MENTIONS[label]] + list(OBSERVATIONS)
    observation = re.compile(rf"\b(?:{_alternation(observations)})\b", re.I)
    anatomy = re.compile(rf"\b(?:(?:{_SIDE}|{_POSITION})[\s-]+){{0,3}}(?:{_alternation(ANATOMY)})\b"
                         rf"|\b(?:{_SIDE}|apical|basilar|bibasilar|perihilar|retrocardiac)\b", re.I)
    return observation, anatomy


def _read_spans(report: Report) -> list[tuple[int, int]]:
    """The findings section; else the impression; else whatever is not indication, history, technique."""
    for sections in (("findings",), ("impression",), ("other",)):
        spans = [(s, e) for s, e in finding_spans(report, sections) if report.text[s:e].strip()]
        if spans:
            return spans
    return []


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding spaces (a phrase table may match a trailing space)."""
    words = text[start:end]
    return start + len(words) - len(words.lstrip()), end - len(words) + len(words.rstrip())


def report_entities(report: Report) -> list[Found]:
    """Observation and anatomy mentions in text order, longest first where they overlap; each
    observation labelled by what the report asserts about it."""
    text = report.text
    observation, anatomy = _compiled()
    candidates: list[tuple[int, int, str]] = []
    for s, e in _read_spans(report):
        candidates += [(*_trimmed(text, m.start(), m.end()), "OBS") for m in observation.finditer(text, s, e)]
        candidates += [(*_trimmed(text, m.start(), m.end()), "ANAT") for m in anatomy.finditer(text, s, e)]
    kept: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(candidates, key=lambda c: (c[0], c[0] - c[1], c[2] != "OBS")):
        if end > start and not any(start < k_end and k_start < end for k_start, k_end, _ in kept):
            kept.append((start, end, kind))
    return [Found(start, end, "ANAT-DP" if kind == "ANAT" else assert_mention(text, start, end).radgraph_label)
            for start, end, kind in sorted(kept)]
