"""Compare one study's findings with its prior's, and check the change the report states.

An observation is one finding at one study: a CheXpert label with its assertion, a RADS system's
category, an N or M stage, or a lesion (radlite.timeline.lesions). ``computed_change`` compares it
with the same finding at the prior study; ``stated_change`` is what the report itself says changed
(a lesion's own clause, a temporal_changes row, or the finding's own clause), attached to the
observation it talks about; ``agreement`` says whether the two agree, and only a real contradiction
disagrees. The size thresholds and the stated-change phrases live here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from radlite.rads_formulas.lung_rads import GROWTH_MM as LUNG_GROWTH_MM  # lung lesions: this band both ways
from radlite.text.sentences import sentence_bounds
from radlite.text.sites import SEPARATOR
from radlite.text.spans import last_match

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
#: The words a report states a change of one finding with, per change (the labels of temporal_changes),
#: longest phrase first. "Enlarged" alone is left out: of a lymph node it says abnormal size, not growth
#: ("has enlarged" is growth).
STATED_CHANGE = re.compile(r"\b(?:" + "|".join(f"(?P<{label}>{words})" for label, words in (
    ("unchanged", r"not\s+(?:significantly\s+|substantially\s+|appreciably\s+|markedly\s+)?changed|"
                  r"no\s+(?:significant\s+|appreciable\s+|substantial\s+|definite\s+)?(?:interval\s+)?change|"
                  r"without\s+(?:significant\s+)?(?:interval\s+)?change|unchanged|"
                  r"stable(?:\s+(?:over|for|since)\s+(?:the\s+(?:past|last)\s+)?\d+\s+(?:days?|weeks?|months?|"
                  r"years?))?|stably|redemonstrated|similar(?:\s+in\s+size)?"),
    ("worsened", r"interval\s+(?:increase|enlargement|growth|progression)|increas(?:ed|ing|e)|"
                 r"(?:has|have)\s+enlarged|enlarging|larger|grown|grew|progressed|progression|worsen(?:ed|ing)|worse"),
    ("improved", r"interval\s+decrease|decreas(?:ed|ing|e)|smaller|improv(?:ed|ing)|regressed|regression|shrunk|"
                 r"reduced"),
    ("resolved", r"resolved|resolution|no\s+longer\s+(?:seen|visualized|visualised|visible|identified|present|"
                 r"evident|demonstrated|appreciated)|disappeared"),
    ("new", r"new|newly|interval\s+(?:development|appearance)"),
)) + r")\b", re.I)
_NEGATED_CHANGE = re.compile(r"\b(?:no|not|without)\s+(?:\w+\s+)?$", re.I)
_STAGE_RANK = re.compile(r"^[NM](\d)")
_WORD = re.compile(r"[a-z]{3,}")
_NOT_NAMING = {"the", "and", "with", "there", "are", "has", "have", "been", "this", "that", "from", "since", "prior",
               "study", "interval", "mild", "mildly", "small", "slight", "slightly", "now", "again", "seen", "noted",
               "measuring", "measures", "unchanged", "stable", "new", "increased", "decreased", "improved", "resolved",
               "worsened", "persistent", "solid", "size", "mm", "cm"}


class StatedChange(NamedTuple):
    """A change the report states (a temporal_changes row, or a lesion's own words), with its span."""

    finding: str
    change: str
    start: int | None
    end: int | None


class Observation(NamedTuple):
    """One finding at one study. ``key`` is (kind, finding); ``rank`` orders categories and stages.
    A lesion also carries its ``organ``, the change stated in its own clause (``stated``) and the spans
    of its clauses (``clauses``: a temporal_changes row inside one is about this lesion)."""

    kind: str
    finding: str
    value: str | None
    assertion: str
    rank: int | None = None
    size_mm: float | None = None
    start: int | None = None
    end: int | None = None
    evidence: str | None = None
    organ: str | None = None
    stated: StatedChange | None = None
    clauses: tuple[tuple[int, int], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.finding)


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


def clauses(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The clause of each mention (``spans`` in text order, within text[start:end]): its sentence, cut at
    the last separator between it and the sentence's previous or next mention ("5 mm left upper lobe
    nodule and 9 mm right lower lobe nodule": one clause each)."""
    end = len(text) if end is None else end
    out = []
    for i, (s, e) in enumerate(spans):
        left, right = sentence_bounds(text, s, e)
        left, right = max(left, start), min(right, end)
        if i and spans[i - 1][1] > left:
            cut = last_match(SEPARATOR, text, spans[i - 1][1], s)
            left = cut.end() if cut else spans[i - 1][1]
        if i + 1 < len(spans) and spans[i + 1][0] < right:
            cut = last_match(SEPARATOR, text, e, spans[i + 1][0])
            right = cut.start() if cut else spans[i + 1][0]
        out.append((left, max(right, e)))
    return out


def stated_change_in(text: str, start: int, end: int, at: int) -> tuple[str, int, int] | None:
    """(change, start, end) of the stated-change phrase in text[start:end] nearest offset ``at``, not
    negated ("no new nodule" states none); None when the clause states no change."""
    found = [m for m in STATED_CHANGE.finditer(text, start, end)
             if not _NEGATED_CHANGE.search(text[max(start, m.start() - 30):m.start()])]
    if not found:
        return None
    m = min(found, key=lambda m: min(abs(m.start() - at), abs(m.end() - at)))
    return m.lastgroup, m.start(), m.end()


def _size_change(current: Observation, prior: Observation) -> str:
    """increased / decreased / persistent between two sizes: Lung-RADS growth for lung lesions, else 20%."""
    delta = current.size_mm - prior.size_mm
    if current.organ == "lung" or prior.organ == "lung":
        return "increased" if delta > LUNG_GROWTH_MM else "decreased" if delta < -LUNG_GROWTH_MM else "persistent"
    ratio = round(delta / prior.size_mm, 4)
    return "increased" if ratio >= SIZE_CHANGE else "decreased" if ratio <= -SIZE_CHANGE else "persistent"


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
        return _size_change(current, prior)
    if current.rank is not None and prior.rank is not None:
        return "category_up" if current.rank > prior.rank else "category_down" if current.rank < prior.rank \
            else "unchanged"
    return "persistent"


def agreement(stated: StatedChange | None, computed: str | None, size_delta: float | None = None) -> str | None:
    """agree / disagree; no_prior when there is no prior study to check against; unchecked when the
    comparison cannot say (uncertain, not restated, or a stated degree of a finding still present
    without sizes: "improved" effusion on a radiograph); None when nothing is stated. A change stated
    for a finding still present whose size moved within the noise band agrees when it moved that way
    ("slightly increased", 8 -> 9 mm)."""
    if stated is None:
        return None
    if computed == "baseline":
        return "no_prior"
    if computed is None or computed in UNCHECKABLE:
        return "unchecked"
    if computed in AGREES_WITH.get(stated.change, set()):
        return "agree"
    if computed == "persistent" and stated.change in ("worsened", "improved"):
        if size_delta is None:
            return "unchecked"
        return "agree" if (size_delta > 0) == (stated.change == "worsened") and size_delta != 0 else "disagree"
    return "disagree"


def _about_a_lesion(change: StatedChange, observations: list[Observation]) -> bool:
    """A stated change inside a lesion's clause: the lesion reads its own (Observation.stated)."""
    return change.start is not None and any(a <= change.start < b for o in observations for a, b in o.clauses)


def attach_stated(observations: list[Observation], stated: Iterable[StatedChange],
                  text: str) -> tuple[dict[tuple[str, str], StatedChange], list[StatedChange]]:
    """Each stated change attached to the observation it names. A lesion's is the one in its own clause;
    a temporal_changes row inside a lesion's clause is that lesion's and is not attached again. Any
    other goes to the observation whose name, then whose words, share most words with the stated
    finding (in the same sentence first), else the only observation stated in its sentence.
    Returns (observation key -> stated change, the stated changes that name no observation)."""
    attached = {o.key: o.stated for o in observations if o.stated is not None}
    left_over: list[StatedChange] = []
    for change in stated:
        if _about_a_lesion(change, observations):
            continue
        words = content_words(change.finding)
        sentence = sentence_bounds(text, change.start, change.start, lines=True) if change.start is not None else None
        free = [o for o in observations if o.key not in attached and o.assertion != "not_mentioned"
                and o.finding != "no finding" and o.kind != "lesion"]

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
    attached.update(_stated_in_own_clause(observations, attached, text))
    return attached, left_over


def _stated_in_own_clause(observations: list[Observation], attached: dict, text: str) -> dict:
    """For a finding no stated change names: the stated-change phrase of its own clause ("Left basilar
    atelectasis, unchanged."), the clause cut at the other findings stated in its sentence."""
    spoken = sorted({(o.start, o.end) for o in observations if o.start is not None and o.end is not None})
    clause_of = dict(zip(spoken, clauses(text, spoken)))
    found = {}
    for o in observations:
        if o.key in attached or o.kind == "lesion" or o.start is None or o.end is None or \
                o.assertion == "not_mentioned" or o.finding == "no finding":
            continue
        said = stated_change_in(text, *clause_of[(o.start, o.end)], o.start)
        if said is not None:
            found[o.key] = StatedChange(o.finding, *said)
    return found


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
        sized = c is not None and p is not None and c.size_mm is not None and bool(p.size_mm)
        delta = c.size_mm - p.size_mm if sized else None
        pct = round(100 * delta / p.size_mm, 1) if sized else None
        s = attached.get(key)
        entries.append(Compared(key[0], key[1], c, p, change, pct, s, agreement(s, change, delta)))
    for s in left_over:
        entries.append(Compared("stated", s.finding, None, None, None, None, s,
                                agreement(s, "baseline" if prior is None else None)))
    return entries
