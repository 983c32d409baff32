"""CheXpert's 14 labels as stated in a report: mentions, their assertion (radlite.text.assertion), sections.

Mentions are found by the phrase tables below in the findings and impression (never in the
indication or history: "rule out pneumonia" is a question, not a finding). Each mention's status is
the assertion engine's (present/absent/uncertain as positive/negative/uncertain): negation scoped to
its clause, "no new A" negative, "cannot exclude A" and coordinated or differential findings ("A
versus B", "A or B") uncertain. Per label a positive mention wins over an
uncertain one, which wins over a negative one (CheXpert's aggregation); a label with no mention is
not_mentioned. Every stated label keeps the span of the mention that decided it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from radlite.report import Report
from radlite.text.assertion import assert_mention
from radlite.text.spans import FINDING_SECTIONS, finding_spans

#: Mention phrases per label (regular expressions, case-insensitive, matched on word boundaries).
MENTIONS: dict[str, tuple[str, ...]] = {
    # A collapsed lung or lobe is atelectasis (CheXpert's convention); "volume loss" alone is not (after
    # surgery it is the resection), nor is a vertebral body's collapse.
    "atelectasis": (r"atelecta\w*", r"(?:lobar|segmental|subsegmental|basilar|lobe|lingula|lung) collapse",
                    r"collapsed? (?:lung|lobe)", r"collapsed (?:\w+ ){0,3}(?:lung|lobes?|lingula)",
                    r"collapse of (?:the |a )?(?:[\w-]+ ){0,4}(?:lung|lobes?|lingula)"),
    # The heart named as CheXpert's mention list names it (heart, heart size, cardiac size/silhouette/shadow/
    # contour), enlarged; "(upper limits of) normal or mildly enlarged" is a borderline size, like "borderline".
    "cardiomegaly": (r"cardiomegaly", r"(?:heart|cardiac silhouette|cardiac shadow|cardiac contour|heart size|cardiac size)"
                     r"(?: xxxx)? (?:is |appears |at |the |"
                     r"remains |persistently |borderline |again |stably |slightly |mildly |moderately |markedly |"
                     r"severely |(?:upper limits? (?:of )?)?normal (?:or|to) )*(?:enlarged|large|increased)",
                     r"borderline (?:heart size|cardiac size)",
                     r"heart size (?:is )?borderline", r"heart is borderline in size",
                     r"enlarge(?:d|ment of the) (?:heart|cardiac silhouette)", r"(?:cardiac|heart) enlargement",
                     r"enlarged cardiac", r"large heart", r"cardiomegal\w*"),
    "consolidation": (r"consolidat\w*",),
    "edema": (r"(?:pulmonary|interstitial|alveolar|perihilar|airspace) edema", r"(?<!soft tissue )(?<!soft-tissue )edema",
              r"kerley"),
    "enlarged cardiomediastinum": (r"(?:mediastin\w*|cardiomediastinal silhouette|hilar contours?) (?:is |are |appears )?"
                                   r"(?:widened|wide|enlarged|prominent)", r"widen\w* (?:of the )?mediastinum",
                                   r"mediastinal widening", r"enlarged cardiomediastinal"),
    "fracture": (r"fractures?", r"fx"),
    "lung lesion": (r"(?<!\bcalcified )(?<!granulomatous )nodules?", r"(?<!\bcalcified )mass(?:es|like)?", r"neoplasm\w*",
                    r"tumou?rs?", r"malignan\w*", r"carcinoma", r"metasta\w*", r"cavitary (?:lesion|mass)\w*",
                    r"(?:lung|pulmonary|parenchymal) lesions?"),
    "lung opacity": (r"opacit\w*", r"infiltrat\w*", r"airspace (?:disease|process)", r"air-space disease",
                     r"densit(?:y|ies)", r"haziness", r"hazy", r"ground[- ]glass", r"scarring", r"fibros\w*",
                     r"interstitial (?:marking|prominence|disease|change)s?"),
    # An effusion of another space is not a pleural one (CheXpert's unmention list: "pericardial effusion").
    "pleural effusion": (r"(?<!pericardial )(?<!joint )(?:pleural )?effusions?", r"pleural fluid", r"hydrothorax"),
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
                     r"limits of normal)(?: in size)?(?! (?:or|to) (?:mildly |slightly )?enlarged)",
                     r"normal(?:-sized|ly sized)? (?:heart|cardiac silhouette|cardiomediastinal silhouette)",
                     r"(?:heart|cardiac) (?:size )?(?:is )?normal in size",
                     r"cardiomediastinal (?:silhouette|contours?) (?:is |are )?(?:normal|within normal limits|unremarkable)"),
    "enlarged cardiomediastinum": (r"(?:mediastin\w*|cardiomediastinal)(?: silhouette| contours?)?(?: and hilar contours?)?"
                                   r"(?: is| are| appears?)? (?:normal|within normal limits|unremarkable)",
                                   r"normal (?:cardio)?mediastinal (?:silhouette|contours?)"),
}

#: Abnormal statements outside the 14 labels: a report holding one (positive) has a finding. Each word
#: with its forms ("dextroscoliosis", "scoliotic", "degeneration", "ectasia", "lung volumes are low").
OTHER_FINDINGS = re.compile(
    r"\b(?:granulom\w*|emphysem\w*|copd|hyperinflat\w*|hyperexpan\w*|degenerat\w*|spondylo\w*|osteophyt\w*|\w*scolio\w*"
    r"|\w*curvature|syndesmophyt\w*|endplate (?:changes|depressions?)"
    r"|kyphosis|calcifi\w*|tortuous|tortuosity|ectatic|ectasia|aneurysm\w*|hernia\w*|elevat\w*|eventration|deformit\w*"
    r"|osteopeni\w*|bronchiectas\w*|thickening|cyst\w*|bulla\w*|bleb\w*|lymphadenopath\w*|adenopath\w*|scar\w*"
    r"|sclero\w*|lytic|blastic|cardiac surgery|sternotomy|cabg|post[- ]?surgical|surgical|resection|lobectomy"
    r"|pneumonectomy|mastectomy|prominen\w*|dilat\w*|unfold\w*|chronic|old|healed|postoperative|post-operative"
    r"|low (?:lung )?volumes?|(?:diminished|decreased|reduced) (?:lung )?volumes?"
    r"|lung volumes (?:are |is )?(?:\w+ )?(?:low|decreased|diminished|reduced)(?! normal)"
    r"|hypoinflat\w*|hypoexpan\w*|hypoventilat\w*|crowding|spur\w*|foreign bod\w*|markings|fullness"
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
    kept: list[tuple[int, int, str]] = []
    for start, end, label in sorted(candidates):
        if not any(start < e and s < end for s, e, _ in kept):
            kept.append((start, end, label))
    found += [Mention(label, start, end, assert_mention(text, start, end).chexpert_status)
              for start, end, label in kept]
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
        other = next((m for m in OTHER_FINDINGS.finditer(text[s:e])
                      if not _negated_other(text, s + m.start(), s + m.end())), None)
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


def _negated_other(text: str, start: int, end: int) -> bool:
    return assert_mention(text, start, end).status == "absent"
