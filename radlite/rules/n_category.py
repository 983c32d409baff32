"""The N category of a primary computed from the node facts its report states (AJCC 8th edition).

N1 / N2 / N3 mean different things by primary site: lung by station and side (hilar N1, ipsilateral
mediastinal or subcarinal N2, contralateral or supraclavicular N3), breast by axillary level and the
internal mammary chain, head and neck by side, size and count, the digestive tract by the number of
involved regional nodes, bladder by count and the common iliac chain; kidney and prostate have N1 only.
Each site is one definition registered in DEFINITIONS; docs/values.md ("N category by primary site")
cites the published tables.

What each computed value means:

- ``N0``-``N3``: the category the stated facts give;
- ``N+``: regional nodes are stated involved, but not what the site's table needs to choose (the count,
  the side, the size, the region); the reason says what is missing;
- None: nothing usable is stated (no node words, only uncertain ones, or no primary site named).

Nodes outside a site's regional chains (retroperitoneal nodes of a lung primary) are left to the M
category. Facts are read from the findings; the impression is read where the findings state no
involved node or leave the category open (a restated count is never counted twice).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from radlite.evidence import Evidence
from radlite.report import Report
from radlite.rules.node_facts import NodeMention, node_mentions
from radlite.rules.primary_sites import Primary, report_primary, site_of_words

TNM_VERSION = "AJCC 8th edition"
#: A region tag whose words also name another tag (an external iliac node is a pelvic one).
_IMPLIES = {"external_iliac": {"pelvic"}, "subcarinal": {"mediastinal"}}


class Category(NamedTuple):
    """What a site's table gives for its involved regional nodes: the lowest and highest N category
    the facts allow (equal: decided) and why."""

    low: int
    high: int
    why: str


class SiteDefinition(NamedTuple):
    """One primary site's N definition: its regional node region tags (radlite.rules.node_facts.REGIONS)
    and the category of its involved regional nodes."""

    regional: frozenset[str]
    category: Callable[[list[NodeMention], Primary], Category]


class NCategory(NamedTuple):
    """A computed N: ``value`` N0-N3, N+ or None; ``reason`` what decided it or what is missing; the
    words it is read from; the primary site it is computed for."""

    value: str | None
    reason: str
    evidence: Evidence
    site: str | None
    version: str | None = TNM_VERSION


# --- Sides ------------------------------------------------------------------------------------------

def relative_side(sides: frozenset[str], primary_side: str | None) -> str | None:
    """ipsilateral, contralateral or bilateral: a node's side words against the primary's side; None
    when it cannot be told (no side stated, or the primary's side unknown)."""
    if "bilateral" in sides or {"right", "left"} <= sides or {"ipsilateral", "contralateral"} <= sides:
        return "bilateral"
    if "contralateral" in sides or "ipsilateral" in sides:
        return "contralateral" if "contralateral" in sides else "ipsilateral"
    side = next((s for s in ("right", "left") if s in sides), None)
    if side is None or primary_side is None:
        return None
    return "ipsilateral" if side == primary_side else "contralateral"


# --- Counts -----------------------------------------------------------------------------------------

def count_category(mentions: list[NodeMention], bounds: tuple[int, ...]) -> Category:
    """The category of a table by node count: ``bounds`` the fewest nodes of N1, N2, ... (gastric
    (1, 3, 7): 1-2 N1, 3-6 N2, >= 7 N3)."""
    def category(n: int) -> int:
        return max(i + 1 for i, least in enumerate(bounds) if n >= least)
    if all(m.count is not None for m in mentions):
        total = sum(m.count for m in mentions)
        return Category(category(total), category(total), f"{total} involved regional node{'s' * (total > 1)}")
    least = sum(m.at_least for m in mentions)
    return Category(category(least), len(bounds),
                    f"at least {least} involved regional node{'s' * (least > 1)}, the number not stated")


def _largest(mentions: list[NodeMention]) -> float | None:
    """The largest node size when every mention states one; None when any is unsized."""
    if any(m.size_mm is None for m in mentions):
        return None
    return max(m.size_mm for m in mentions)


# --- Site definitions -------------------------------------------------------------------------------

def _lung_one(m: NodeMention, side: str | None) -> Category:
    """Lung: one mention's category from its stations, regions and side."""
    found: list[Category] = []
    if "supraclavicular" in m.regions or any(s.rstrip("RL") == "1" for s in m.stations):
        found.append(Category(3, 3, "supraclavicular or scalene node"))
    rel = relative_side(m.sides, side)
    for station in m.stations:
        number = station.rstrip("RLap")
        written = station[-1] if station[-1] in "RL" else None
        if number in ("5", "6"):
            written = "L"
        st_side = relative_side(frozenset({"right" if written == "R" else "left"}), side) if written else (
            "midline" if number in ("3", "7") else rel)
        if number.isdigit() and 10 <= int(number) <= 14:
            found.append(_hilar(st_side, f"station {station}"))
        elif number.isdigit() and 2 <= int(number) <= 9:
            found.append(_mediastinal(st_side, f"station {station}"))
    if not m.stations:
        if "hilar" in m.regions:
            found.append(_hilar(rel, "hilar node"))
        if m.regions & {"mediastinal", "paraesophageal"}:
            only_subcarinal = "subcarinal" in m.regions and not (m.sides - {"ipsilateral"})
            found.append(_mediastinal("midline" if only_subcarinal else rel,
                                      "subcarinal node" if only_subcarinal else "mediastinal node"))
    if not found:
        return Category(1, 3, "node station or region not stated")
    return Category(max(c.low for c in found), max(c.high for c in found), "; ".join(c.why for c in found))


def _hilar(rel: str | None, what: str) -> Category:
    if rel == "ipsilateral":
        return Category(1, 1, f"ipsilateral {what}")
    if rel in ("contralateral", "bilateral"):
        return Category(3, 3, f"{rel} {what}")
    return Category(1, 3, f"{what}, side not stated")


def _mediastinal(rel: str | None, what: str) -> Category:
    if rel in ("ipsilateral", "midline"):
        return Category(2, 2, f"{'ipsilateral ' * (rel == 'ipsilateral')}{what}")
    if rel in ("contralateral", "bilateral"):
        return Category(3, 3, f"{rel} {what}")
    return Category(2, 3, f"{what}, side not stated")


def lung(mentions: list[NodeMention], primary: Primary) -> Category:
    """N1 ipsilateral peribronchial / hilar / intrapulmonary (stations 10-14); N2 ipsilateral mediastinal
    or subcarinal (2-9); N3 contralateral mediastinal or hilar, scalene or supraclavicular."""
    return _highest([_lung_one(m, primary.side) for m in mentions])


def _highest(found: list[Category]) -> Category:
    return Category(max(c.low for c in found), max(c.high for c in found), "; ".join(c.why for c in found))


def breast(mentions: list[NodeMention], primary: Primary) -> Category:
    """Clinical N: N1 movable ipsilateral level I/II axillary; N2 matted or fixed level I/II, or internal
    mammary without axillary; N3 infraclavicular (level III), internal mammary with level I/II
    axillary, or supraclavicular. A node called axillary with no level is read as level I/II (level
    III is named infraclavicular or level III)."""
    found: list[Category] = []
    mammary = axillary = False
    for m in mentions:
        if "supraclavicular" in m.regions:
            found.append(Category(3, 3, "ipsilateral supraclavicular node"))
        if "infraclavicular" in m.regions or ("axillary" in m.regions and "III" in m.levels):
            found.append(Category(3, 3, "infraclavicular (level III) node"))
        elif "axillary" in m.regions:
            axillary = True
            found.append(Category(2, 2, "matted level I/II axillary nodes") if m.matted
                         else Category(1, 1, "level I/II axillary node"))
        if "internal_mammary" in m.regions:
            mammary = True
    if mammary:
        found.append(Category(3, 3, "internal mammary with level I/II axillary nodes") if axillary
                     else Category(2, 2, "internal mammary node without axillary nodes"))
    return _highest(found) if found else Category(1, 3, "node region not stated")


def head_and_neck(mentions: list[NodeMention], primary: Primary) -> Category:
    """Clinical N (oral cavity, larynx, hypopharynx, p16-negative oropharynx): N1 single ipsilateral
    <= 3 cm; N2 single ipsilateral > 3-6 cm, multiple ipsilateral, or contralateral/bilateral, none
    > 6 cm; N3 a node > 6 cm or with overt extranodal extension."""
    largest, sides = _largest(mentions), [relative_side(m.sides, primary.side) for m in mentions]
    if any(m.size_mm is not None and m.size_mm > 60 for m in mentions):
        return Category(3, 3, "a node larger than 6 cm")
    if any(m.extranodal for m in mentions):
        return Category(3, 3, "extranodal extension")
    high = 2 if largest is not None else 3
    size_note = "" if largest is not None else ", size not stated"
    if any(s in ("contralateral", "bilateral") for s in sides):
        return Category(2, high, f"contralateral or bilateral nodes{size_note}")
    count = sum(m.at_least for m in mentions)
    if None in sides:
        return Category(1 if count == 1 else 2, high, f"side of the node not stated{size_note}")
    if count > 1:
        return Category(2, high, f"multiple ipsilateral nodes{size_note}")
    if largest is None:
        return Category(1, 3, "single ipsilateral node, size not stated")
    return Category(1, 1, "single ipsilateral node <= 3 cm") if largest <= 30 else Category(
        2, 2, "single ipsilateral node > 3 cm and <= 6 cm")


def oropharynx_p16(mentions: list[NodeMention], primary: Primary) -> Category:
    """Clinical N of p16-positive oropharynx: N1 ipsilateral nodes, none > 6 cm; N2 contralateral or
    bilateral, none > 6 cm; N3 any node > 6 cm."""
    largest, sides = _largest(mentions), [relative_side(m.sides, primary.side) for m in mentions]
    if any(m.size_mm is not None and m.size_mm > 60 for m in mentions):
        return Category(3, 3, "a node larger than 6 cm")
    high, note = (2, "") if largest is not None else (3, ", size not stated")
    if any(s in ("contralateral", "bilateral") for s in sides):
        return Category(2, high, f"contralateral or bilateral nodes{note}")
    if None in sides:
        return Category(1, high, f"side of the node not stated{note}")
    return Category(1, 1 if largest is not None else 3, f"ipsilateral nodes{note}")


def bladder(mentions: list[NodeMention], primary: Primary) -> Category:
    """N1 a single node of the true pelvis; N2 multiple; N3 common iliac nodes."""
    if any("common_iliac" in m.regions for m in mentions):
        return Category(3, 3, "common iliac node")
    found = count_category(mentions, (1, 2))
    return found._replace(why=f"true pelvis: {found.why}")


def _by_count(bounds: tuple[int, ...]) -> Callable[[list[NodeMention], Primary], Category]:
    def category(mentions: list[NodeMention], primary: Primary) -> Category:
        return count_category(mentions, bounds)
    category.__doc__ = f"N by the number of involved regional nodes, fewest of N1, N2, ...: {bounds}."
    return category


def _any_node(mentions: list[NodeMention], primary: Primary) -> Category:
    """N1: any involved regional node (the table has no N2 or N3)."""
    return Category(1, 1, "involved regional node")


def melanoma(mentions: list[NodeMention], primary: Primary) -> Category:
    """N1 one node; N2 two or three; N3 four or more, or matted nodes (in-transit metastases are read
    as the nodes they accompany)."""
    if any(m.matted for m in mentions):
        return Category(3, 3, "matted nodes")
    return count_category(mentions, (1, 2, 4))


def _chains(*tags: str) -> frozenset[str]:
    """A site's regional region tags; "regional" ("regional", "adjacent", "peritumoral" nodes) is every site's."""
    return frozenset({*tags, "regional"})


_NECK = _chains("cervical", "supraclavicular")
DEFINITIONS: dict[str, SiteDefinition] = {
    "lung": SiteDefinition(_chains("hilar", "mediastinal", "subcarinal", "paraesophageal", "supraclavicular"), lung),
    "breast": SiteDefinition(_chains("axillary", "infraclavicular", "internal_mammary", "supraclavicular"), breast),
    "colorectum": SiteDefinition(_chains("pericolic", "mesorectal", "pelvic"), _by_count((1, 4))),
    "stomach": SiteDefinition(_chains("perigastric", "celiac", "peripancreatic"), _by_count((1, 3, 7))),
    "oesophagus": SiteDefinition(_chains("paraesophageal", "mediastinal", "subcarinal", "perigastric", "celiac"),
                                 _by_count((1, 3, 7))),
    "pancreas": SiteDefinition(_chains("peripancreatic", "celiac", "perigastric"), _by_count((1, 4))),
    "oral cavity": SiteDefinition(_NECK, head_and_neck),
    "larynx": SiteDefinition(_NECK, head_and_neck),
    "hypopharynx": SiteDefinition(_NECK, head_and_neck),
    "oropharynx": SiteDefinition(_NECK, head_and_neck),
    "oropharynx p16+": SiteDefinition(_NECK, oropharynx_p16),
    "bladder": SiteDefinition(_chains("pelvic", "external_iliac", "common_iliac"), bladder),
    "kidney": SiteDefinition(_chains("retroperitoneal"), _any_node),
    "prostate": SiteDefinition(_chains("pelvic", "external_iliac"), _any_node),
    "melanoma": SiteDefinition(_chains("axillary", "inguinal", "cervical", "limb", "supraclavicular"), melanoma),
}


# --- One primary's N --------------------------------------------------------------------------------

def _regional(m: NodeMention, definition: SiteDefinition, strict: bool) -> bool:
    """Whether a mention is of the site's regional nodes: a region of its chains (an external iliac node
    is not a colorectal one), or no region named (only when the report has one primary: ``strict``
    false)."""
    named = m.regions - {"regional"}
    if not named:
        return not strict or "regional" in m.regions
    distant = named - definition.regional
    implied = set().union(*(_IMPLIES.get(tag, set()) for tag in distant))
    return bool((named - implied) & definition.regional)


def _decide(mentions: list[NodeMention], definition: SiteDefinition, primary: Primary,
            text: str) -> NCategory | None:
    """The category of the involved mentions (None when there is none)."""
    involved = [m for m in mentions if m.status == "positive"]
    if not involved:
        return None
    found = definition.category(involved, primary)
    evidence = _evidence(text, involved)
    label = f"{primary.site}{f' ({primary.side})' if primary.side else ''}"
    if found.low == found.high:
        return NCategory(f"N{found.low}", f"{label}: {found.why} -> N{found.low}", evidence, primary.site)
    return NCategory("N+", f"{label}: {found.why}; the table's category needs what is not stated "
                           f"(N{found.low}-N{found.high})", evidence, primary.site)


def _evidence(text: str, mentions: list[NodeMention]) -> Evidence:
    """From the first to the last sentence of the mentions, without the spaces before them."""
    start, end = min(m.sentence[0] for m in mentions), max(m.sentence[1] for m in mentions)
    while start < end and text[start].isspace():
        start += 1
    return Evidence(start, end)


def n_for_primary(report: Report, primary: Primary | None, strict: bool = False) -> NCategory:
    """The N category of ``primary`` from the report's node facts (see the module docstring); ``strict``:
    only nodes whose region is the site's (a report that stages two primaries)."""
    if primary is None:
        return NCategory(None, "no primary site with an N definition here is named", Evidence(), None, None)
    definition = DEFINITIONS.get(primary.site)
    if definition is None:
        return NCategory(None, f"{primary.site}: no N definition here (AJCC 8th edition table not implemented)",
                         Evidence(), primary.site, None)
    every = node_mentions(report)
    mentions = [m for m in every if _regional(m, definition, strict)]
    findings = [m for m in mentions if not m.in_impression]
    impression = [m for m in mentions if m.in_impression]
    chosen = _decide(findings, definition, primary, report.text)
    restated = _decide(impression, definition, primary, report.text)
    if chosen is None or (chosen.value == "N+" and restated is not None and restated.value != "N+"):
        chosen = restated or chosen
    if chosen is not None:
        return chosen
    negative = next((m for m in mentions if m.status == "negative"), None)
    if negative is not None:
        return NCategory("N0", f"{primary.site}: regional lymph nodes stated absent or normal",
                         _evidence(report.text, [negative]), primary.site)
    if any(m.status == "open" for m in mentions):
        return NCategory(None, f"{primary.site}: regional lymph nodes stated only with uncertainty or as history",
                         Evidence(), primary.site)
    if any(m.status == "positive" for m in every):
        return NCategory(None, f"{primary.site}: the involved nodes stated are not of its regional chains (or not "
                               "told apart from another primary's); nonregional nodes are M, not N", Evidence(),
                         primary.site)
    return NCategory(None, f"{primary.site}: the report states nothing about its regional lymph nodes", Evidence(),
                     primary.site)


def report_n(report: Report) -> NCategory:
    """The N category of the report's primary (radlite.rules.primary_sites.report_primary)."""
    return n_for_primary(report, report_primary(report))


def site_n(report: Report, words: str) -> NCategory:
    """The N category of the primary that a TNM statement's site words name, from the nodes of its own
    regional chains only."""
    return n_for_primary(report, site_of_words(words, report.text), strict=True)
