"""Lesions a report names, followed by identity: kind, organ, site and size.

A lesion is its kind (nodule, mass, lesion, cyst, lymph node, ...: ``KINDS``), its organ and site
(lobe, segment, side, pole, clock face, nodal station, vertebral level) and its size: "a 4 mm right
upper lobe nodule" and "nodule in the right upper lobe measuring 4 mm" are one lesion, named
"nodule right upper lobe". The name is how a lesion is followed from one study to the next, so site
words are read on both sides of the noun and written in one canonical order per organ (``site_name``).

A mention's words are those of its clause: the sentence, cut at the separator between it and the
previous or next lesion noun of the sentence ("5 mm left upper lobe nodule and 9 mm right lower lobe
nodule"). Its size is the nearest size there that is the study's own (not "previously 6 mm", not
"3 cm from the nipple"); its stated change the nearest stated-change phrase there
(radlite.timeline.changes.STATED_CHANGE). Only finding sections are read.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from radlite.text.assertion import PRIOR_SIZE, assert_mention
from radlite.text.sections import section_bodies
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import LOBE_WORDS, LUNG_LOBES, SIDE_WORDS, SIDES
from radlite.timeline.changes import Observation, clauses, stated_change_in

#: Lesion nouns; "node" alone is a lymph node; "observation" is LI-RADS's word for a liver lesion.
_KIND = re.compile(r"\b(?P<kind>nodules?|mass(?:es)?(?!\s+effect)|lesions?|cysts?|(?:lymph\s+)?nodes?|tumou?rs?|"
                   r"observations?|adenomas?|metastas[ie]s|hemangiomas?|haemangiomas?)\b", re.I)
_SIZE = re.compile(r"(?P<size>\d+(?:\.\d+)?(?:\s*(?:x|by|×)\s*\d+(?:\.\d+)?)*)\s*"
                   r"(?P<unit>mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b", re.I)
#: A size that is not the study's own: the past before it (radlite.text.assertion.PRIOR_SIZE), a distance after it.
_DISTANCE = re.compile(r"\s*(?:from\b|FN\b|deep\b|below\b|above\b)", re.I)

_SIDE = re.compile(r"\b(right|left|bilateral)\b", re.I)
_LOBE_ABBREVIATION = re.compile(rf"\b({'|'.join(SIDES)})({'|'.join(LUNG_LOBES)})L\b")
_LUNG_LOBE = re.compile(rf"\b(?:(?P<side>{SIDE_WORDS})\s+)?(?P<lobe>{LOBE_WORDS})\s+lobes?\b", re.I)
_LINGULA = re.compile(r"\blingul(?:a|ar)\b", re.I)
_LUNG_SEGMENT = re.compile(r"\b(?P<segment>apicoposterior|apical|superior|(?:anterior|lateral|medial|posterior)\s+"
                           r"basal|anterior|posterior|lateral|medial)\s+segment", re.I)
_LIVER_SEGMENT = re.compile(r"\bsegments?\s+(?P<n>VIII|VII|VI|IV|V|III|II|I|[1-8])(?P<sub>[ab])?\b", re.I)
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7", "VIII": "8"}
_ORGANS = (
    ("lung", re.compile(r"\b(?:lungs?|pulmonary)\b", re.I)),
    ("liver", re.compile(r"\b(?:liver|hepatic|caudate)\b", re.I)),
    ("thyroid", re.compile(r"\bthyroid\b", re.I)),
    ("adrenal", re.compile(r"\badrenals?\b", re.I)),
    ("kidney", re.compile(r"\b(?:kidneys?|renal)\b", re.I)),
    ("breast", re.compile(r"\bbreasts?\b", re.I)),
    ("pancreas", re.compile(r"\bpancrea(?:s|tic)\b", re.I)),
    ("spleen", re.compile(r"\b(?:spleen|splenic)\b", re.I)),
    ("bone", re.compile(r"\b(?:vertebra[el]?|vertebral|osseous|bony|rib|sacrum|sacral|iliac bone|femur|femoral|"
                        r"humerus|humeral|scapula|sternum|skull)\b", re.I)),
)
_POLE = re.compile(r"\b(?:(?P<pole>upper|lower|mid)[\s-]*pole|(?P<interpolar>interpolar))\b", re.I)
_ORGAN_LOBE = re.compile(r"\b(?P<side>right|left)\s+(?:(?:thyroid|hepatic|liver)\s+)?lobe\b|\b(?P<caudate>caudate)\s+"
                         r"lobe\b|\b(?P<isthmus>isthmus)\b", re.I)
_CLOCK = re.compile(r"\b(?P<hour>1[0-2]|[1-9])(?::\d\d)?\s*o'?\s*clock\b", re.I)
_STATION = re.compile(r"\b(?P<station>hilar|subcarinal|paratracheal|pretracheal|precarinal|prevascular|aortopulmonary|"
                      r"mediastinal|axillary|supraclavicular|cervical|internal mammary|para-?aortic|retroperitoneal|"
                      r"mesenteric|inguinal|(?:external|internal|common)\s+iliac|portacaval|periportal|"
                      r"level\s+(?:VI|V|IV|III|II|I|[1-6])[ab]?|station\s+\d{1,2}[RL]?)\b", re.I)
_VERTEBRA = re.compile(r"\b(?P<level>C[1-7]|T1[0-2]|T[1-9]|L[1-5]|S[1-5])\b(?=\s*(?:vertebra|vertebral|"
                       r"(?:lytic|sclerotic|blastic|osseous|bone)?\s*(?:lesion|mass|tumou?r)|level))")
#: The organ a report is about, from its exam line: sites such as "right lobe" or "upper pole" are
#: read within it.
_CONTEXT = (("thyroid", r"thyroid"), ("breast", r"breast|mammo"), ("bone", r"spine|lumbar|thoracic spine|cervical "
            r"spine|bone"), ("liver", r"liver|hepat"), ("kidney", r"kidney|renal"), ("lung", r"chest|lung|thora"))
HEAD_CHARS = 200
#: Lesion kinds as names begin with them.
KINDS = ("lymph node", "nodule", "mass", "lesion", "cyst", "tumor", "observation", "adenoma", "metastasis",
         "hemangioma")


class Lesion(NamedTuple):
    """One lesion of a report: its name (kind and canonical site), organ, size (mm; None when the report
    states none), assertion (present, or absent when it is said to be gone), its stated change (change,
    start, end) and where it is stated (``start``/``end``; ``clauses``: the spans of all its mentions)."""

    name: str
    organ: str | None
    size_mm: float | None
    assertion: str
    stated: tuple[str, int, int] | None
    start: int
    end: int
    clauses: tuple[tuple[int, int], ...]


class _Mention(NamedTuple):
    kind: str
    organ: str | None
    site: str
    size_mm: float | None
    assertion: str
    stated: tuple[str, int, int] | None
    start: int
    end: int
    clause: tuple[int, int]


def size_mm(size: str, unit: str) -> float:
    """Largest dimension of "8", "1.2 x 0.9" in millimetres."""
    largest = max(float(v) for v in re.split(r"\s*(?:x|by|×)\s*", size.strip(), flags=re.I))
    return round(largest * (10.0 if unit.lower().startswith("c") else 1.0), 2)


def context_organ(text: str) -> str | None:
    """The organ the exam line names (its EXAMINATION section, else the first line), for sites that
    name no organ."""
    exam = next((text[start:end] for start, end, section in section_bodies(text) if section == "examination"),
                text.split("\n", 1)[0])[:HEAD_CHARS]
    return next((organ for organ, words in _CONTEXT if re.search(words, exam, re.I)), None)


def _nearest(matches: list[re.Match], at: int) -> re.Match | None:
    """The match closest to offset ``at`` (the lesion noun): a clause may name two sides or lobes."""
    return min(matches, key=lambda m: min(abs(m.start() - at), abs(m.end() - at))) if matches else None


def _side(text: str, start: int, end: int, at: int) -> str:
    m = _nearest(list(_SIDE.finditer(text, start, end)), at)
    return m.group(1).lower() if m else ""


def _join(*words: str) -> str:
    return " ".join(w for w in words if w)


def _lung_site(text: str, start: int, end: int, at: int) -> str | None:
    """"right upper lobe superior segment", "lingula", or None when the clause names no lobe."""
    if _LINGULA.search(text, start, end):
        return "lingula"
    abbreviation = _nearest(list(_LOBE_ABBREVIATION.finditer(text, start, end)), at)
    lobe = _nearest(list(_LUNG_LOBE.finditer(text, start, end)), at)
    if abbreviation is None and lobe is None:
        return None
    if lobe is not None:
        name = _join((lobe.group("side") or _side(text, start, end, at)).lower(), lobe.group("lobe").lower(), "lobe")
    else:
        name = _join(SIDES[abbreviation.group(1)], LUNG_LOBES[abbreviation.group(2)], "lobe")
    segment = _LUNG_SEGMENT.search(text, start, end)
    return _join(name, " ".join(segment.group("segment").lower().split()) + " segment" if segment else "")


def _organ_of(text: str, start: int, end: int, at: int, kind: str, context: str | None) -> str | None:
    """The organ a clause names (the organ word nearest the noun at ``at``), else the report's; lymph
    nodes are their own organ."""
    if kind == "lymph node":
        return "lymph node"
    if _LINGULA.search(text, start, end) or _LUNG_LOBE.search(text, start, end) or \
            _LOBE_ABBREVIATION.search(text, start, end):
        return "lung"
    if _VERTEBRA.search(text, start, end):
        return "bone"
    named = [(min(abs(m.start() - at), abs(m.end() - at)), organ) for organ, words in _ORGANS
             for m in words.finditer(text, start, end)]
    if named:
        return min(named)[1]
    if _LIVER_SEGMENT.search(text, start, end):
        return "liver"
    return context


def _station_name(words: str) -> str:
    """"level II" and "level 2" are one station; words in lower case, single spaces."""
    words = " ".join(words.lower().split())
    level = re.fullmatch(r"level (\w+?)([ab]?)", words)
    return f"level {_ROMAN.get(level.group(1).upper(), level.group(1))}{level.group(2)}" if level else words


def site_name(text: str, start: int, end: int, at: int, organ: str | None) -> str:
    """The canonical site of the lesion noun at ``at`` from the clause text[start:end], per organ."""
    side = _side(text, start, end, at)
    if organ == "lung":
        return _lung_site(text, start, end, at) or _join(side, "lung")
    if organ == "liver":
        segment = _LIVER_SEGMENT.search(text, start, end)
        if segment:
            return _join("liver segment", _ROMAN.get(segment.group("n").upper(), segment.group("n")) +
                         (segment.group("sub") or "").lower())
        lobe = _ORGAN_LOBE.search(text, start, end)
        return _join("liver", (lobe.group("side") or lobe.group("caudate") or "").lower(), "lobe") if lobe else "liver"
    if organ == "thyroid":
        lobe = _ORGAN_LOBE.search(text, start, end)
        pole = _POLE.search(text, start, end)
        pole_name = (f"{pole.group('pole').lower()} pole" if pole.group("pole") else "interpolar") if pole else ""
        if lobe and lobe.group("isthmus"):
            return "thyroid isthmus"
        return _join(side, "thyroid lobe" if side else "thyroid", pole_name)
    if organ == "kidney":
        pole = _POLE.search(text, start, end)
        pole_name = (f"{pole.group('pole').lower()} pole" if pole.group("pole") else "interpolar") if pole else ""
        return _join(side, "kidney", pole_name)
    if organ == "breast":
        clock = _CLOCK.search(text, start, end)
        return _join(side, "breast", f"{clock.group('hour')} o'clock" if clock else "")
    if organ == "lymph node":
        station = _nearest(list(_STATION.finditer(text, start, end)), at)
        return _join(side, _station_name(station.group("station")) if station else "")
    if organ == "bone":
        level = _VERTEBRA.search(text, start, end)
        if level:
            return f"{level.group('level')} vertebra"
        bone = _ORGANS[-1][1].search(text, start, end)
        return _join(side, bone.group().lower() if bone else "bone")
    return _join(side, organ or "")


def _kind(word: str) -> str:
    word = " ".join(word.lower().split())
    if "node" in word:
        return "lymph node"
    word = {"masses": "mass", "tumour": "tumor", "tumours": "tumor", "metastases": "metastasis",
            "haemangioma": "hemangioma", "haemangiomas": "hemangioma"}.get(word, word)
    return word[:-1] if word.endswith("s") and not word.endswith(("ss", "sis")) else word


def _own_size(text: str, start: int, end: int, at: int) -> re.Match | None:
    """The size of the clause that is the study's own measurement, nearest the noun."""
    sizes = [m for m in _SIZE.finditer(text, start, end)
             if not PRIOR_SIZE.search(text[max(start, m.start() - 30):m.start()])
             and not _DISTANCE.match(text, m.end())]
    return _nearest(sizes, at)


def _mentions(text: str) -> list[_Mention]:
    context = context_organ(text)
    found = []
    for start, end, section in section_bodies(text):
        if section not in ("findings", "impression", "other"):
            continue
        nouns = [m for m in _KIND.finditer(text, start, end)
                 if "lymph" in m.group().lower() or "node" not in m.group().lower()
                 or _STATION.search(text, *sentence_bounds(text, m.start(), m.end()))]
        for noun, (left, right) in zip(nouns, clauses(text, [n.span() for n in nouns], start, end)):
            kind = _kind(noun.group("kind"))
            stated = stated_change_in(text, left, right, noun.start())
            if stated is None and assert_mention(text, noun.start(), noun.end()).status == "absent":
                continue  # "no adrenal nodule": nothing to follow
            organ = _organ_of(text, left, right, noun.start(), kind, context)
            size = _own_size(text, left, right, noun.start())
            span = (min(noun.start(), size.start()), max(noun.end(), size.end())) if size else noun.span()
            found.append(_Mention(kind, organ, site_name(text, left, right, noun.start(), organ),
                                  size_mm(size.group("size"), size.group("unit")) if size else None,
                                  "absent" if stated and stated[0] == "resolved" else "present", stated,
                                  span[0], span[1], (left, right)))
    return found


def _resolve(mentions: list[_Mention]) -> list[_Mention]:
    """A mention that names no site beyond its organ ("the nodule is stable") is the report's only
    lesion of its kind (and organ) with a site, when there is exactly one."""
    sited = {(m.kind, m.organ, m.site) for m in mentions if m.site not in ("", m.organ)}
    out = []
    for m in mentions:
        if m.site in ("", m.organ):
            same = {s for s in sited if s[0] == m.kind and (m.organ is None or s[1] == m.organ)}
            if len(same) == 1:
                _, organ, site = same.pop()
                m = m._replace(organ=organ, site=site)
        out.append(m)
    return out


def read_lesions(text: str) -> list[Lesion]:
    """The report's lesions in text order, each identity once: the first stated size and the first
    stated change of any of its mentions. A lesion with neither a size nor a stated change in any
    mention ("scattered hepatic cysts") is not followed: its name alone would come and go with the
    wording."""
    grouped: dict[str, list[_Mention]] = {}
    for m in _resolve(_mentions(text)):
        grouped.setdefault(_join(m.kind, m.site), []).append(m)
    lesions = []
    for name, mentions in grouped.items():
        sized = next((m for m in mentions if m.size_mm is not None), None)
        first = sized or mentions[0]
        stated = next((m.stated for m in mentions if m.stated), None)
        if sized is None and stated is None:
            continue
        assertion = "present" if sized else mentions[0].assertion
        lesions.append(Lesion(name, first.organ, first.size_mm, assertion, stated, first.start, first.end,
                              tuple(m.clause for m in mentions)))
    return sorted(lesions, key=lambda lesion: lesion.start)


def _unsited(o: Observation) -> str | None:
    """The kind of a lesion named without a site beyond its organ ("nodule lung", "cyst"), else None."""
    kind = next((k for k in KINDS if o.finding == k or o.finding.startswith(k + " ")), None)
    return kind if kind and o.finding in (kind, _join(kind, o.organ or "")) else None


def follow_unsited(current: list[Observation], prior: list[Observation]) -> list[Observation]:
    """A lesion this study names without a site ("the pulmonary nodule is stable") is the prior study's
    only lesion of that kind and organ that this study does not name: it takes that lesion's name."""
    named = {o.finding for o in current}
    out = []
    for o in current:
        kind = _unsited(o) if o.kind == "lesion" else None
        if kind:
            candidates = [p for p in prior if p.kind == "lesion" and p.finding not in named and
                          p.finding.startswith(kind + " ") and (o.organ is None or p.organ == o.organ)]
            if len(candidates) == 1:
                named.add(candidates[0].finding)
                o = o._replace(finding=candidates[0].finding, organ=candidates[0].organ,
                               stated=o.stated._replace(finding=candidates[0].finding) if o.stated else None)
        out.append(o)
    return out
