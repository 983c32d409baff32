"""CheXpert's 14 labels as stated in a report: mentions, NegEx negation (negspacy), uncertainty, sections.

Mentions are found by the phrase tables below in the findings and impression (never in the
indication or history: "rule out pneumonia" is a question, not a finding). Each mention is then
negated or not by negspacy's NegEx with its clinical termset (pseudo-negations and terminations
included, scoped to the sentence), and made uncertain by the hedges below, which outrank negation
("cannot exclude pneumonia" is uncertain, not negative). Per label a positive mention wins over an
uncertain one, which wins over a negative one (CheXpert's aggregation); a label with no mention is
not_mentioned. Every stated label keeps the span of the mention that decided it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import spacy
from negspacy.negation import Negex  # noqa: F401 - registers the "negex" pipe factory
from negspacy.termsets import termset

from radlite.report import Report
from radlite.rules.text import FINDING_SECTIONS, finding_spans, sentence_around

#: Mention phrases per label (regular expressions, case-insensitive, matched on word boundaries).
MENTIONS: dict[str, tuple[str, ...]] = {
    "atelectasis": (r"atelecta\w*", r"(?:lobar|segmental|subsegmental|basilar) collapse", r"collapsed? (?:lung|lobe)",
                    r"volume loss"),
    "cardiomegaly": (r"cardiomegaly", r"(?:heart|cardiac silhouette|cardiac shadow|heart size)(?: xxxx)? (?:is |appears |"
                     r"remains |persistently |borderline |again |stably |slightly |mildly |moderately |markedly |"
                     r"severely )*(?:enlarged|large|increased)", r"borderline (?:heart size|cardiac size)",
                     r"heart size (?:is )?borderline", r"heart is borderline in size",
                     r"enlarge(?:d|ment of the) (?:heart|cardiac silhouette)", r"cardiac enlargement",
                     r"enlarged cardiac", r"large heart", r"cardiomegal\w*"),
    "consolidation": (r"consolidat\w*",),
    "edema": (r"(?:pulmonary|interstitial|alveolar|perihilar|airspace) edema", r"(?<!soft tissue )(?<!soft-tissue )edema",
              r"kerley"),
    "enlarged cardiomediastinum": (r"(?:mediastin\w*|cardiomediastinal silhouette|hilar contours?) (?:is |are |appears )?"
                                   r"(?:widened|wide|enlarged|prominent)", r"widen\w* (?:of the )?mediastinum",
                                   r"mediastinal widening", r"enlarged cardiomediastinal"),
    "fracture": (r"fractures?", r"fx"),
    "lung lesion": (r"(?<!calcified )(?<!granulomatous )nodules?", r"(?<!calcified )mass(?:es)?", r"neoplasm\w*",
                    r"tumou?rs?", r"malignan\w*", r"carcinoma", r"metasta\w*", r"cavitary (?:lesion|mass)\w*",
                    r"(?:lung|pulmonary|parenchymal) lesions?"),
    "lung opacity": (r"opacit\w*", r"infiltrat\w*", r"airspace (?:disease|process)", r"air-space disease",
                     r"densit(?:y|ies)", r"haziness", r"hazy", r"ground[- ]glass", r"scarring", r"fibros\w*",
                     r"interstitial (?:marking|prominence|disease|change)s?"),
    "pleural effusion": (r"(?:pleural )?effusions?", r"pleural fluid", r"hydrothorax"),
    "pleural other": (r"pleural thicken\w*", r"pleural plaques?", r"pleural scar\w*", r"fibrothorax",
                      r"pleural calcification"),
    "pneumonia": (r"pneumoni\w*", r"(?:acute|developing|superimposed|active) infection", r"infectious process",
                  r"bronchopneumonia"),
    "pneumothorax": (r"pneumothora\w*", r"pneumothoraces"),
    "support devices": (r"(?:endotracheal|et|nasogastric|ng|og|feeding|chest|enteric|tracheostomy) tubes?",
                        r"catheters?", r"picc", r"(?:central|venous) line", r"pacemaker", r"pacer", r"icd",
                        r"defibrillator", r"port-?a-?cath", r"(?:sternotomy )?wires?", r"stents?", r"clips?",
                        r"valve (?:replacement|prosthesis)", r"prosthe\w*", r"hardware", r"leads?", r"drains?",
                        r"(?:xxxx )?tip (?:is |in |at |terminat\w*|project\w*|overl\w*|near )", r"sutures?",
                        r"suture material", r"stimulator", r"(?:monitoring |cardiac )?devices?", r"electrodes?",
                        r"generator", r"implants?", r"shunt"),
}

#: Statements that a label is absent without a negation word ("heart size is normal").
NORMAL_STATEMENTS: dict[str, tuple[str, ...]] = {
    "cardiomegaly": (r"(?:heart|cardiac)(?: size| silhouette| shadow)?(?: and mediastin\w*)?(?: is| are| appears?| remains?)?"
                     r" (?:grossly |otherwise )?(?:normal|within normal limits|unremarkable|stable and normal|upper "
                     r"limits of normal)(?: in size)?",
                     r"normal(?:-sized|ly sized)? (?:heart|cardiac silhouette|cardiomediastinal silhouette)",
                     r"(?:heart|cardiac) (?:size )?(?:is )?normal in size",
                     r"cardiomediastinal (?:silhouette|contours?) (?:is |are )?(?:normal|within normal limits|unremarkable)"),
    "enlarged cardiomediastinum": (r"(?:mediastin\w*|cardiomediastinal)(?: silhouette| contours?)?(?: and hilar contours?)?"
                                   r"(?: is| are| appears?)? (?:normal|within normal limits|unremarkable)",
                                   r"normal (?:cardio)?mediastinal (?:silhouette|contours?)"),
}

#: Hedges that make a mention uncertain, before it in its sentence or after it. A negated mention
#: stays negative ("no pleural line to suggest pneumothorax"), except under the hedges that deny a
#: negation ("cannot exclude", "not ruled out"), which make it uncertain.
UNCERTAIN_BEFORE = re.compile(
    r"\b(?:may|might|could|possibl[ey]|probabl[ey]|likely|suggest\w*|suspicious|suspected|concerning|question(?:able)?"
    r"|differential|consider\w*|equivocal|indeterminate|presumab\w*|vs\.?|versus|atypical|early"
    r"|underlying|suspicion|worrisome)\b|\?", re.I)
UNCERTAIN_AFTER = re.compile(
    r"^[^.;]{0,40}?\b(?:is |are |be )?(?:possible|possibly|suspected|likely|questioned)\b|^[^.;]{0,40}\?", re.I)
DENIED_NEGATION = re.compile(
    r"\b(?:cannot|can not|can't|could not|not)\s+(?:be\s+)?(?:entirely\s+|completely\s+|definitely\s+)?"
    r"(?:exclude[ds]?|ruled? out)\b", re.I)

#: Abnormal statements outside the 14 labels: a report holding one (positive) has a finding.
OTHER_FINDINGS = re.compile(
    r"\b(?:granulom\w*|emphysem\w*|copd|hyperinflat\w*|hyperexpan\w*|degenerative|spondylo\w*|osteophyt\w*|scoliosis"
    r"|kyphosis|calcifi\w*|tortuous|tortuosity|ectatic|aneurysm\w*|hernia\w*|elevat\w*|eventration|deformit\w*"
    r"|osteopeni\w*|bronchiectas\w*|thickening|cyst\w*|bulla\w*|bleb\w*|lymphadenopath\w*|adenopath\w*|scar\w*"
    r"|sclero\w*|lytic|blastic|cardiac surgery|sternotomy|cabg|post[- ]?surgical|surgical|resection|lobectomy"
    r"|pneumonectomy|mastectomy|prominen\w*|dilat\w*|unfold\w*|chronic|old|healed|postoperative|post-operative"
    r"|low (?:lung )?volumes?|hypoinflat\w*|hypoexpan\w*|crowding|spur\w*|foreign bod\w*|markings|fullness"
    r"|atheroscler\w*|arthrit\w*|interstitial|nodular|bronchitis|pectus|deviat\w*|shift\w*|blunt\w*|flatten\w*"
    r"|lucenc\w*|atypical|enlarg\w*|loculat\w*)\b",
    re.I)
#: A statement that the study is normal: the evidence of No Finding.
NORMAL_STUDY = re.compile(
    r"\b(?:no (?:acute|active) (?:cardio)?(?:pulmonary|thoracic|chest|intrathoracic|radiographic|disease|process|"
    r"findings?|abnormalit\w*)[^.]*|normal (?:chest|study|examination|radiograph\w*)[^.]*|(?:the )?lungs are clear[^.]*"
    r"|no (?:acute )?abnormalit\w*[^.]*|negative (?:chest|study|examination)[^.]*)", re.I)

STATUSES_BY_RANK = ("positive", "uncertain", "negative")
PATHOLOGIES = tuple(label for label in MENTIONS if label != "support devices")
#: What rules out "no finding": any pathology, and (a stricter reading than CheXpert's) any device.
NOT_NORMAL = tuple(MENTIONS)


@dataclass(frozen=True)
class Mention:
    label: str
    start: int
    end: int
    status: str


def _alternation(patterns) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, re.Pattern], dict[str, re.Pattern]]:
    mentions = {label: re.compile(rf"\b(?:{_alternation(ps)})\b", re.I) for label, ps in MENTIONS.items()}
    normals = {label: re.compile(rf"\b(?:{_alternation(ps)})", re.I) for label, ps in NORMAL_STATEMENTS.items()}
    return mentions, normals


@lru_cache(maxsize=1)
def _negex_pipeline():
    """A blank English spaCy pipeline: sentences, then NegEx over the entities we set."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    terms = termset("en_clinical")
    # "A versus B" and "evaluate for B" are hedges here, not negations (UNCERTAIN_BEFORE takes them).
    terms.remove_patterns({"preceding_negations": ["versus", "evaluate for", "doubt"]})
    terms.add_patterns({"preceding_negations": ["clear of", "resolution of", "resolved", "no evidence of",
                                                "no radiographic evidence of", "without evidence of", "negative for",
                                                "no definite", "no focal", "no acute", "no visible", "no displaced"],
                        "following_negations": ["resolved", "has resolved", "have resolved", "not seen",
                                                "not identified", "not visualized", "is absent", "are absent"],
                        "pseudo_negations": ["no change", "no significant change", "no interval change",
                                             "not significantly changed", "no increase", "no new", "without change"],
                        "termination": ["but", "however", "although", "which", "with", "and there is", "though",
                                        "apart from", "except"]})
    nlp.add_pipe("negex", config={"neg_termset": terms.get_patterns(), "ent_types": list(MENTIONS)})
    return nlp


def _status(text: str, start: int, end: int, negated: bool) -> str:
    left, right = sentence_around(text, start, end)
    if DENIED_NEGATION.search(text[left:right]):
        return "uncertain"
    if negated:
        return "negative"
    hedged = UNCERTAIN_BEFORE.search(text[left:start]) or UNCERTAIN_AFTER.search(text[end:right])
    return "uncertain" if hedged else "positive"


def mentions(report: Report, sections: tuple[str, ...] = FINDING_SECTIONS) -> list[Mention]:
    """Every label mention in the report's ``sections``, with its status, in text order."""
    text = report.text
    spans = finding_spans(report, sections)
    mention_patterns, normal_patterns = _compiled()
    found: list[Mention] = []
    for label, pattern in normal_patterns.items():
        for s, e in spans:
            found += [Mention(label, m.start() + s, m.end() + s, "negative") for m in pattern.finditer(text[s:e])]
    normal_ranges = [(m.start, m.end) for m in found]
    candidates = []
    for label, pattern in mention_patterns.items():
        for s, e in spans:
            for m in pattern.finditer(text[s:e]):
                start, end = m.start() + s, m.end() + s
                if not any(a <= start < b for a, b in normal_ranges):
                    candidates.append((start, end, label))
    doc = _negex_pipeline().make_doc(text)
    entities, kept = [], []
    for start, end, label in sorted(candidates):
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None and not any(span.start < o.end and o.start < span.end for o in entities):
            entities.append(span)
            kept.append((start, end, label))
    doc.ents = entities
    for _, pipe in _negex_pipeline().pipeline:
        doc = pipe(doc)
    for (start, end, label), entity in zip(kept, doc.ents):
        found.append(Mention(label, start, end, _status(text, start, end, entity._.negex)))
    return sorted(found, key=lambda m: m.start)


def label_report(report: Report) -> dict[str, Mention | None]:
    """Per CheXpert label the deciding mention (positive > uncertain > negative), None when not mentioned;
    ``no finding`` is positive when no pathology is positive or uncertain and nothing else abnormal is stated."""
    by_label: dict[str, Mention | None] = {label: None for label in (*MENTIONS, "no finding")}
    for mention in mentions(report):
        current = by_label[mention.label]
        if current is None or STATUSES_BY_RANK.index(mention.status) < STATUSES_BY_RANK.index(current.status):
            by_label[mention.label] = mention
    by_label["no finding"] = _no_finding(report, by_label)
    return by_label


def _no_finding(report: Report, by_label: dict[str, Mention | None]) -> Mention | None:
    abnormal = [m for label in NOT_NORMAL if (m := by_label[label]) and m.status in ("positive", "uncertain")]
    if abnormal:
        first = min(abnormal, key=lambda m: m.start)
        return Mention("no finding", first.start, first.end, "negative")
    text = report.text
    for s, e in finding_spans(report):
        other = next((m for m in OTHER_FINDINGS.finditer(text[s:e]) if not _negated_other(text, s + m.start())), None)
        if other:
            return Mention("no finding", s + other.start(), s + other.end(), "negative")
    for s, e in finding_spans(report):
        normal = NORMAL_STUDY.search(text[s:e])
        if normal:
            return Mention("no finding", s + normal.start(), s + normal.end(), "positive")
    spans = [(s, e) for s, e in finding_spans(report) if text[s:e].strip()]
    if not spans:
        return None
    return Mention("no finding", spans[0][0], spans[-1][1], "positive")


_NEGATION_BEFORE = re.compile(r"\b(?:no|without|negative|free of|resolved|resolution of)\b[^.;]*$", re.I)


def _negated_other(text: str, start: int) -> bool:
    left, _ = sentence_around(text, start, start)
    return bool(_NEGATION_BEFORE.search(text[left:start]))
