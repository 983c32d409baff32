"""Compare one study's findings with its prior's, and check the change the report states.

An observation is one finding at one study: a CheXpert label with its assertion, a RADS system's
category, an N or M stage, or a sized lesion. ``computed_change`` compares it with the same finding
at the prior study; ``stated_change`` is what the report itself says changed (temporal_changes),
attached to the observation it talks about; ``agreement`` says whether the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

#: A size change at least this large (relative to the prior size) counts as increased/decreased;
#: the 20% of RECIST 1.1's progression threshold. Smaller changes are measurement noise: persistent.
SIZE_CHANGE = 0.20
#: Which computed changes each stated change (temporal_changes.change) agrees with.
AGREES_WITH = {
    "new": {"new"},
    "worsened": {"increased", "category_up", "new"},
    "improved": {"decreased", "category_down", "resolved"},
    "resolved": {"resolved"},
    "unchanged": {"persistent", "unchanged"},
}
#: Computed changes that cannot confirm or refute a stated change.
UNCHECKABLE = {"uncertain", "not_restated", "not_mentioned"}
_STAGE_RANK = re.compile(r"^[NM](\d)")
_WORD = re.compile(r"[a-z]{3,}")
_NOT_NAMING = {"the", "and", "with", "there", "are", "has", "have", "been", "this", "that", "from", "since", "prior",
               "study", "interval", "mild", "mildly", "small", "slight", "slightly", "now", "again", "seen", "noted",
               "measuring", "measures", "unchanged", "stable", "new", "increased", "decreased", "improved", "resolved",
               "worsened", "persistent", "solid", "size", "mm", "cm"}


class Observation(NamedTuple):
    """One finding at one study. ``key`` is (kind, finding); ``rank`` orders categories and stages."""

    kind: str
    finding: str
    value: str | None
    assertion: str
    rank: int | None = None
    size_mm: float | None = None
    start: int | None = None
    end: int | None = None
    evidence: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.finding)


class StatedChange(NamedTuple):
    """A change the report states (a temporal_changes row), with its finding's span."""

    finding: str
    change: str
    start: int | None
    end: int | None


class Compared(NamedTuple):
    """One timeline entry: an observation (or its absence) against the prior's, and the stated change."""

    kind: str
    finding: str
    current: Observation | None
    prior: Observation | None
    computed_change: str | None
    size_change_pct: float | None
    stated: StatedChange | None
    agreement: str | None


def content_words(text: str) -> set[str]:
    """The words of a phrase that name a finding (not articles, change cues or hedges)."""
    return set(_WORD.findall(text.lower())) - _NOT_NAMING


def stage_rank(stage: str | None) -> int | None:
    m = _STAGE_RANK.match(stage or "")
    return int(m.group(1)) if m else None


def computed_change(current: Observation | None, prior: Observation | None, has_prior: bool) -> str | None:
    """new, resolved, persistent, increased, decreased, category_up, category_down, unchanged;
    baseline for a first study; not_restated when only the prior states it; uncertain."""
    if not has_prior:
        return "baseline"
    now = current.assertion if current else "not_mentioned"
    before = prior.assertion if prior else "not_mentioned"
    if "uncertain" in (now, before) and "present" in (now, before) or now == "uncertain":
        return "uncertain"
    if now == "not_mentioned":
        return "not_restated" if before == "present" else "not_mentioned"
    if now == "absent":
        return "resolved" if before == "present" else "uncertain" if before == "uncertain" else "absent"
    if before != "present":
        return "new"
    if current.size_mm is not None and prior.size_mm:
        ratio = round((current.size_mm - prior.size_mm) / prior.size_mm, 4)
        return "increased" if ratio >= SIZE_CHANGE else "decreased" if ratio <= -SIZE_CHANGE else "persistent"
    if current.rank is not None and prior.rank is not None:
        return "category_up" if current.rank > prior.rank else "category_down" if current.rank < prior.rank \
            else "unchanged"
    return "persistent"


def agreement(stated: StatedChange | None, computed: str | None) -> str | None:
    """agree / disagree; no_prior when there is no prior study to check against; unchecked when the
    comparison cannot say (uncertain, not restated); None when nothing is stated."""
    if stated is None:
        return None
    if computed == "baseline":
        return "no_prior"
    if computed is None or computed in UNCHECKABLE:
        return "unchecked"
    return "agree" if computed in AGREES_WITH.get(stated.change, set()) else "disagree"


def _sentence(text: str, start: int) -> tuple[int, int]:
    left = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), text.rfind(";", 0, start)) + 1
    stops = [i for i in (text.find(".", start), text.find("\n", start), text.find(";", start)) if i >= 0]
    return left, min(stops) if stops else len(text)


def attach_stated(observations: list[Observation], stated: Iterable[StatedChange],
                  text: str) -> tuple[dict[tuple[str, str], StatedChange], list[StatedChange]]:
    """Each stated change attached to the observation it names: the one whose name, then whose words,
    share most words with the stated finding (in the same sentence first), else the only observation
    stated in its sentence.
    Returns (observation key -> stated change, the stated changes that name no observation)."""
    attached: dict[tuple[str, str], StatedChange] = {}
    left_over: list[StatedChange] = []
    for change in stated:
        words = content_words(change.finding)
        sentence = _sentence(text, change.start) if change.start is not None else None
        free = [o for o in observations if o.key not in attached and o.assertion != "not_mentioned"
                and o.finding != "no finding"]

        near = {o.key for o in free if sentence and o.start is not None and sentence[0] <= o.start < sentence[1]}
        by_name = {o.key: len(words & content_words(o.finding)) for o in free}
        by_words = {o.key: len(words & content_words(o.evidence or "")) for o in free}
        named = sorted((o for o in free if by_name[o.key] or by_words[o.key]),
                       key=lambda o: (-by_name[o.key], -by_words[o.key], o.key not in near))
        alone = [o for o in free if o.key in near]
        chosen = named[0] if named else alone[0] if len(alone) == 1 else None
        if chosen is None:
            left_over.append(change)
        else:
            attached[chosen.key] = change
    return attached, left_over


def _worth_a_row(current: Observation | None, prior: Observation | None) -> bool:
    """A finding the study states, or one the prior stated present: not a label neither mentions."""
    return (current is not None and current.assertion != "not_mentioned") or \
        (prior is not None and prior.assertion in ("present", "uncertain"))


def compare_study(current: list[Observation], prior: list[Observation] | None, stated: list[StatedChange],
                  text: str) -> list[Compared]:
    """The timeline entries of one study against its prior study (None: it has none)."""
    now = {o.key: o for o in current}
    before = {o.key: o for o in prior or []}
    attached, left_over = attach_stated(current, stated, text)
    entries = []
    for key in sorted(set(now) | set(before)):
        c, p = now.get(key), before.get(key)
        if not _worth_a_row(c, p):
            continue
        change = computed_change(c, p, prior is not None)
        pct = round(100 * (c.size_mm - p.size_mm) / p.size_mm, 1) \
            if c and p and c.size_mm is not None and p.size_mm else None
        s = attached.get(key)
        entries.append(Compared(key[0], key[1], c, p, change, pct, s, agreement(s, change)))
    for s in left_over:
        entries.append(Compared("stated", s.finding, None, None, None, None, s,
                                agreement(s, "baseline" if prior is None else None)))
    return entries
