"""The node facts a report states, mention by mention: how many nodes, where (region, station, level),
which side, how large, matted or with extranodal extension, and whether they are involved.

Each mention of a lymph node ("Two enlarged left axillary level I lymph nodes", "Enlarged right hilar
(station 10R) lymph node, 16 mm", "Bilateral level II lymphadenopathy") is read within its own part of
the sentence: from the previous node mention (or the sentence start) to the next one. Whether it is
involved (N+), normal (N0) or left open is radlite.rules.stage_findings' reading of that one mention,
so the N0/N+ of that module and the finer category of radlite.rules.n_category never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radlite.rads_formulas.measure import sizes
from radlite.report import Report
from radlite.rules.stage_findings import n_from_mentions
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import SEPARATOR
from radlite.text.spans import finding_spans, impression_span

_NODE = re.compile(r"\b(?:lymph\s*nodes?|nodes?|LNs?|lymphadenopath\w*|adenopath\w*|nodal)\b", re.I)
#: Node mentions that are a label ("Nodes: two suspicious ..."), not a finding.
_LABEL_AFTER = re.compile(r"\s*:")
_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "single": 1, "solitary": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "both": 2}
_SOME = r"several|multiple|numerous|innumerable|many|few|a\s+few|some|a\s+number\s+of|bilateral"
_NUMBER = r"\d{1,2}|" + "|".join(k for k in _COUNT_WORDS if k != "both")
#: How many nodes a mention names: "at least eight", "4 of 12", "five", "a single", "several".
_COUNT = re.compile(rf"(?<![\d.,])\b(?:(?P<least>at\s+least|more\s+than|over|>=?|≥)\s*(?P<min>{_NUMBER})|"
                    rf"(?P<pos>\d{{1,2}})\s*(?:of|/)\s*\d{{1,2}}|(?P<exact>{_NUMBER}|both)|(?P<some>{_SOME}))\b"
                    r"(?![.,]\d)(?!\s*(?:mm|cm|%|[RrLl]\b|o'?clock))", re.I)
#: A number that is a station, level, size or date, not a count ("station 7", "level 2", "2nd").
_NOT_COUNT_BEFORE = re.compile(r"(?:\b(?:stations?|levels?|segments?|zones?|ribs?|[TLCS]|IV)|[/-])\s*$", re.I)
_STATION = re.compile(r"\b(?:stations?\s*)?(?P<num>1[0-4]|[1-9]|3[ap])(?P<side>[RL])\b|"
                      r"\bstations?\s*(?P<bare>1[0-4]|[1-9]|3[ap])\b", re.I)
_LEVEL_WORD = r"(?:I{1,3}|IV|VI{0,2}|V|[1-7])[AB]?"
_LEVELS = re.compile(rf"\blevels?\s+(?P<list>{_LEVEL_WORD}(?:\s*(?:,|and|-|to|/|&)\s*{_LEVEL_WORD})*)\b", re.I)
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII"}
#: Node regions, by a tag each site's N definition reads (radlite.rules.n_category.DEFINITIONS).
REGIONS: dict[str, re.Pattern] = {tag: re.compile(pattern, re.I) for tag, pattern in {
    "supraclavicular": r"\bsupraclavicular|\bscalene|\bsternal\s+notch",
    "hilar": r"(?<!renal\s)(?<!splenic\s)(?<!hepatic\s)(?<!liver\s)\bhil(?:ar|um|i)\b|\bperibronchial|"
             r"\bintrapulmonary|\binterlobar",
    "mediastinal": r"\bmediastin\w*|\bparatracheal|\bpretracheal|\bretrotracheal|\bsubcarinal|\baorto-?pulmonary|"
                   r"\bAP\s+window|\bprevascular|\bsubaortic|\bpulmonary\s+ligament",
    "paraesophageal": r"\b(?:para|peri)-?o?esophageal",
    "subcarinal": r"\bsubcarinal",
    "axillary": r"\baxill\w+",
    "infraclavicular": r"\binfraclavicular",
    "internal_mammary": r"\binternal\s+mammary|\bparasternal",
    "cervical": r"\bcervical|\bneck\b|\bjugul\w+|\bsubmandibular|\bsubmental|\bjugulodigastric|\bretropharyngeal|"
                r"\bparotid|\bspinal\s+accessory|\bposterior\s+triangle",
    "pericolic": r"\b(?:peri|para|epi|meso)-?colo?(?:n|ni)?ic\b|\bileocolic|\b(?:right|middle|left)\s+colic|"
                 r"\bmesenteric|\bmesocolon|\bsigmoid",
    "mesorectal": r"\bmeso-?rectal|\bperi-?rectal|\bsuperior\s+rectal",
    "perigastric": r"\bperi-?gastric|\blesser\s+curv\w*|\bgreater\s+curv\w*|\bgastro-?epiploic|"
                   r"\b(?:left|right)\s+gastric|\bgastrohepatic|\bhepatoduodenal|\bpyloric|\bcardiac\b|"
                   r"\bsplenic\s+(?:artery|hil\w+)|\bcommon\s+hepatic",
    "celiac": r"\bc(?:o)?eliac",
    "peripancreatic": r"\bperi-?pancreatic|\bpancreaticoduodenal|\bportal\b|\bporta\s+hepatis|"
                      r"\bsuperior\s+mesenteric|\bhepatic\s+artery",
    "pelvic": r"\bobturator|\binternal\s+iliac|\bhypogastric|\bpresacral|\bperivesical|\bpelvic|\bperi-?prostatic|"
              r"\bexternal\s+iliac|\bsacral",
    "external_iliac": r"\bexternal\s+iliac",
    "common_iliac": r"\bcommon\s+iliac",
    "retroperitoneal": r"\bretroperiton\w*|\bpara-?aortic|\bpara-?caval|\baorto-?caval|\binter-?aortocaval|"
                       r"\bpre-?caval|\bretro-?caval|\bperi-?aortic|\brenal\s+hil\w+|\babdominal",
    "inguinal": r"\binguinal|\bfemoral|\bgroin",
    "limb": r"\bpopliteal|\bepitrochlear",
    "regional": r"\bregional|\badjacent|\bperitumou?ral|\blocal(?:ly)?\b",
}.items()}
_MATTED = re.compile(r"\bmatted|\bconglomerat\w*|\bfixed|\bconfluent|\bcoalescent", re.I)
_ENE = re.compile(r"\bextra-?nodal\s+extension|\bextra-?capsular\s+(?:extension|spread)|\bENE\b", re.I)
_NO_ENE = re.compile(r"\b(?:without|no|absent|negative\s+for)\b[^.;]{0,30}$", re.I)
#: Words after which a size is the tumour's, not the node's ("3 cm mass with an enlarged node").
_NOT_NODE_SIZE = re.compile(r"\b(?:mass|tumou?r|lesion|primary|carcinoma|cancer|thickening)\b", re.I)
_SIDE = re.compile(r"\b(?P<side>right|left|bilateral|contralateral|ipsilateral)(?:[- ]sided)?\b", re.I)


@dataclass(frozen=True)
class NodeMention:
    """One mention of lymph nodes: ``status`` positive (involved), negative (stated absent or normal)
    or open; ``count`` exact or None, ``at_least`` the fewest nodes it names; ``regions`` the region
    tags of REGIONS; ``stations`` ("10R", "7"); ``levels`` ("II", "III"); ``sides`` the side words
    (right, left, bilateral, contralateral, ipsilateral); ``size_mm`` the largest size stated;
    ``start``/``end`` the node words and ``sentence`` the sentence they stand in."""

    status: str
    count: int | None
    at_least: int
    regions: frozenset[str]
    stations: tuple[str, ...]
    levels: tuple[str, ...]
    sides: frozenset[str]
    size_mm: float | None
    matted: bool
    extranodal: bool
    start: int
    end: int
    sentence: tuple[int, int]
    in_impression: bool


def _status(text: str, start: int, end: int) -> str:
    """positive, negative or open: the N+/N0 reading of this mention alone."""
    return {"N+": "positive", "N0": "negative"}.get(n_from_mentions(text, [(start, end)]).value, "open")


def _count(text: str, left: int, start: int, plural: bool, regions: int,
           adenopathy: bool = False) -> tuple[int | None, int]:
    """(exact count or None, fewest nodes) from the words before the node noun: the last count there
    ("Five enlarged pericolonic", "at least eight", "a single"); else one for a singular noun, at
    least two for a plural, or as many as the regions it lists ("obturator and internal iliac nodes")."""
    found = None
    for m in _COUNT.finditer(text, left, start):
        if _NOT_COUNT_BEFORE.search(text, left, m.start()):
            continue
        found = m
    if found is not None:
        if found.group("min"):
            least = _number(found.group("min")) + (0 if found.group("least").lower().startswith(("at", ">=", "≥"))
                                                   else 1)
            return None, least
        if found.group("pos"):
            return int(found.group("pos")), int(found.group("pos"))
        if found.group("exact"):
            n = _number(found.group("exact"))
            return n, n
        return None, max(2, regions)
    if not plural:
        return 1, 1
    return None, max(1 if adenopathy else 2, regions)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _COUNT_WORDS[word.lower()]


def _levels(text: str, start: int, end: int) -> tuple[str, ...]:
    """Neck or axillary levels named in text[start:end] ("levels I and II", "level IIA", "level 3")."""
    out: list[str] = []
    for m in _LEVELS.finditer(text, start, end):
        items = re.findall(_LEVEL_WORD, m.group("list"), re.I)
        for item in items:
            base = _ROMAN.get(item[0], item.rstrip("ABab").upper()) if item[0].isdigit() else item.rstrip("ABab")
            out.append(base.upper())
        if re.search(r"I{1,3}\s*-\s*I{1,3}", m.group("list")) and "II" not in out:
            out.append("II")
    return tuple(dict.fromkeys(out))


def _stations(text: str, start: int, end: int) -> tuple[str, ...]:
    """IASLC stations named in text[start:end], with their side where written ("10R", "4L", "7")."""
    out = []
    for m in _STATION.finditer(text, start, end):
        out.append(f"{m.group('num')}{m.group('side').upper()}" if m.group("num") else m.group("bare"))
    return tuple(dict.fromkeys(out))


def _after_last(pattern: re.Pattern, text: str, start: int, end: int) -> int:
    """The offset after the last match of ``pattern`` in text[start:end], else ``start``."""
    found = [m.end() for m in pattern.finditer(text, start, end)]
    return found[-1] if found else start


def _extranodal(text: str, start: int, end: int) -> bool:
    """Extranodal extension stated present ("with extranodal extension"), not "without ENE"."""
    return any(not _NO_ENE.search(text[max(start, m.start() - 40):m.start()]) for m in _ENE.finditer(text, start, end))


def _mention(text: str, node: re.Match, lead: int, tail: int, sentence: tuple[int, int],
             impression: tuple[int, int] | None) -> NodeMention:
    """One node mention read from its lead (the words before the noun) and its tail (the words after)."""
    start, end = node.start(), node.end()
    regions = frozenset(tag for tag, pattern in REGIONS.items() if pattern.search(text, lead, tail))
    listed = sum(1 for tag in regions if tag not in ("regional", "subcarinal", "external_iliac"))
    word = node.group().lower()
    adenopathy = word.endswith(("pathy", "pathies")) or word == "nodal"
    count, least = _count(text, lead, start, word.endswith("s") or adenopathy, listed, adenopathy)
    found_sizes = sizes(text, _after_last(_NOT_NODE_SIZE, text, lead, start), tail)
    if regions.isdisjoint({"axillary", "infraclavicular"}) and _levels(text, lead, tail):
        regions |= {"cervical"}
    return NodeMention(
        status=_status(text, start, end), count=count, at_least=least, regions=regions,
        stations=_stations(text, lead, tail), levels=_levels(text, lead, tail),
        sides=frozenset(m.group("side").lower() for m in _SIDE.finditer(text, lead, tail)),
        size_mm=max((s.longest_mm for s in found_sizes), default=None),
        matted=bool(_MATTED.search(text, lead, tail)), extranodal=_extranodal(text, lead, tail),
        start=start, end=end, sentence=sentence,
        in_impression=impression is not None and impression[0] <= start < impression[1])


def _split(text: str, start: int, end: int) -> int:
    """Where the words between two node mentions change hands: at the first separator (",", "and") after
    the first mention, else right after it ("node and enlarged left hilar node")."""
    m = SEPARATOR.search(text, start, end)
    return m.start() if m else start


def node_mentions(report: Report) -> list[NodeMention]:
    """Every node mention of the report's finding sections, in text order (labels like "Nodes:" and a
    "nodal" that only qualifies another node word are skipped)."""
    text, impression = report.text, impression_span(report)
    found: list[tuple[re.Match, tuple[int, int]]] = []
    for span_start, span_end in finding_spans(report):
        for m in _NODE.finditer(text, span_start, span_end):
            sentence = sentence_bounds(text, m.start(), m.end())
            if not text[sentence[0]:m.start()].strip() and _LABEL_AFTER.match(text, m.end()):
                continue
            if found and found[-1][0].end() >= m.start() - 1 and found[-1][1] == sentence:
                continue  # "nodal lymph nodes", "lymph node nodes": one mention
            found.append((m, sentence))
    out = []
    for i, (m, sentence) in enumerate(found):
        previous = found[i - 1] if i and found[i - 1][1] == sentence else None
        following = found[i + 1] if i + 1 < len(found) and found[i + 1][1] == sentence else None
        lead = _split(text, previous[0].end(), m.start()) if previous else sentence[0]
        tail = _split(text, m.end(), following[0].start()) if following else sentence[1]
        out.append(_mention(text, m, lead, tail, sentence, impression))
    return out
