"""The assertion engine: is a finding mention present, absent or uncertain, historical, hypothetical?

Every rule extractor asks this one module (CheXpert labels, temporal cues, nodes and metastases for
staging, RADS features, entities). Given a report text and the span of one mention, it reads the
mention's sentence and answers with an ``Assertion``:

- ``absent``: a negation governs the mention ("no pneumothorax", "without effusion", "effusion has
  resolved", "no new focal pneumonia": no new A is absent for A), within its clause (a "but",
  "however", "which" ... ends the scope, and so does a phrase closed by its verb and a comma: "no
  effusion is seen, nodule ...");
- ``uncertain``: a denied negation ("cannot exclude A", "A is not excluded": these outrank the
  negation they contain; one after the mention only when the mention is its subject), a question
  ("rule out A", "to evaluate for A", "correlate clinically for A": also ``hypothetical``), a
  coordinated or differential construction ("A or B", "A and/or B", "A versus/vs B", "either A or
  B", "A, B or C", "it is unsure whether this represents A or B", "differential includes A"), or a
  hedge ("may represent A", "A is likely", "suspicious for A", "A may be present");
- ``present`` otherwise.

``historical`` marks a mention stated about the past ("history of A", "previously treated A",
"interval resolution of A", "status post"), independently of the status. The conventions follow
the CheXpert labeler and NegBio where they speak, with one deliberate difference ("no new A" is
absent, not uncertain); docs/values.md says where and why. The trigger tables are our own.

Public API::

    assert_mention(text, start, end) -> Assertion
    assert_mentions(text, spans) -> list[Assertion]      # many mentions of one text

The text is the whole report (or any text); offsets are character offsets into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from radlite.text.sentences import sentence_bounds

Status = Literal["present", "absent", "uncertain"]
STATUSES: tuple[Status, ...] = ("present", "absent", "uncertain")
#: The CheXpert labeler's word for each status (``abnormalities.status``), and back.
CHEXPERT_STATUS: dict[Status, str] = {"present": "positive", "absent": "negative", "uncertain": "uncertain"}
STATUS_OF_CHEXPERT: dict[str, Status] = {word: status for status, word in CHEXPERT_STATUS.items()}
#: RadGraph's observation label for each status (``entities.label``: definitely present, definitely
#: absent, uncertain), and back.
RADGRAPH_LABEL: dict[Status, str] = {"present": "OBS-DP", "absent": "OBS-DA", "uncertain": "OBS-U"}
STATUS_OF_RADGRAPH: dict[str, Status] = {label: status for status, label in RADGRAPH_LABEL.items()}


@dataclass(frozen=True)
class Assertion:
    """What a report asserts about one mention.

    ``status``: present, absent or uncertain. ``historical``: stated about the past;
    ``hypothetical``: asked, not stated (rule out, evaluate for). ``rule``: which construction decided
    the status (``default`` when nothing did); ``cue_start``/``cue_end``: the words that decided it
    (None for ``default``), offsets into the text."""

    status: Status
    historical: bool = False
    hypothetical: bool = False
    rule: str = "default"
    cue_start: int | None = None
    cue_end: int | None = None

    @property
    def chexpert_status(self) -> str:
        """The CheXpert labeler's word for the status: positive, negative or uncertain."""
        return CHEXPERT_STATUS[self.status]

    @property
    def radgraph_label(self) -> str:
        """RadGraph's observation label for the status: OBS-DP, OBS-DA or OBS-U."""
        return RADGRAPH_LABEL[self.status]


def _words(*phrases: str) -> str:
    """One alternation of phrases, each matched on word boundaries with any spacing between words."""
    parts = sorted({p for p in phrases}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in parts)


# --- Sentences and clauses -------------------------------------------------------------------------

#: Words that end a negation's or hedge's scope inside a sentence (NegEx's "terminations").
_TERMINATION = re.compile(r"\b(?:" + _words(
    "but", "however", "although", "though", "which", "whereas", "yet", "nevertheless", "except", "apart from",
    "aside from", "with", "and there is", "and there are", "otherwise", "while", "though there is") + r")\b", re.I)


#: A phrase closed by its own verb and a comma ("no effusion is seen, small nodule at the base", "A cannot
#: be excluded, B"): a negation or hedge before it does not reach past it.
_CLOSED_PHRASE = re.compile(r"\b(?:seen|identified|noted|present|demonstrated|visualized|evident|detected|appreciated|"
                            r"excluded|ruled\s+out)\s*,", re.I)
#: The terminations that also end a hedge's scope: a hedge reaches over "with" and "which" ("may be
#: compatible with A", "suggestive of a mass with obstructive A"), not over a contrast.
_HEDGE_TERMINATION = re.compile(r"\b(?:" + _words(
    "but", "however", "although", "though", "whereas", "yet", "nevertheless", "except", "apart from", "aside from",
    "otherwise", "while", "and there is", "and there are") + r")\b", re.I)


def _hedge_left(text: str, left: int, start: int) -> int:
    """Where the scope of a hedge before the mention may begin: after the last contrast, or the last phrase
    closed by its own verb and a comma ("no suspicious mass is seen, calcifications"), before it."""
    for pattern in (_HEDGE_TERMINATION, _CLOSED_PHRASE):
        for m in pattern.finditer(text, left, start):
            left = max(left, m.end())
    return left


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The part of the mention's sentence between the terminations around it."""
    left, right = sentence_bounds(text, start, end)
    for m in _TERMINATION.finditer(text, left, start):
        left = m.end()
    m = _TERMINATION.search(text, end, right)
    return left, m.start() if m else right


# --- Trigger tables (our own; read the CheXpert labeler's and NegBio's patterns for the conventions) --

#: Phrases that contain a negation word but negate nothing ("no change in the effusion").
_PSEUDO = re.compile(r"\b(?:" + _words(
    "no change", "no significant change", "no interval change", "no significant interval change", "no increase",
    "no decrease", "no substantial change", "without change", "without interval change", "not significantly changed",
    "not changed", "not only", "not necessarily", "no further", "gram negative", "not been changed",
    "without significant change", "without significant interval change", "without substantial change") + r")\b", re.I)
#: "cannot exclude A", "A is not excluded", "cannot rule out A": uncertain, outranking the negation.
_DENIED_NEGATION = re.compile(
    r"\b(?:cannot|can\s+not|can't|could\s+not|not|unable\s+to|difficult\s+to|hard\s+to)\s+(?:be\s+)?"
    r"(?:entirely\s+|completely\s+|fully\s+|definitely\s+|totally\s+|reliably\s+|confidently\s+)?"
    r"(?:exclude[ds]?|ruled?\s+out|be\s+excluded|be\s+ruled\s+out|excluded)\b", re.I)
#: A negation before the mention: "no", "without", "negative for", "resolution of", "no new".
_NEGATION_BEFORE = re.compile(r"\b(?:" + _words(
    "no", "without", "negative for", "free of", "clear of", "absence of", "absent", "resolution of", "resolved",
    "removal of", "rather than", "no longer", "never", "nor", "neither", "not", "denies", "deny", "negative",
    "fails to demonstrate", "does not demonstrate", "do not demonstrate", "does not show", "did not show",
    "no evidence of", "no sign of", "no signs of", "interval clearing of", "cleared") + r")\b", re.I)
#: A negation after the mention: "A is not seen", "A has resolved", "A removed".
_NEGATION_AFTER = re.compile(r"^[^,]{0,60}?\b(?:" + _words(
    "not seen", "not identified", "not visualized", "not present", "not appreciated", "not demonstrated",
    "not evident", "not detected", "not noted", "not visible", "is absent", "are absent", "absent", "resolved",
    "has resolved", "have resolved", "has cleared", "have cleared", "cleared", "removed", "no longer seen",
    "no longer present", "no longer visualized", "no longer", "is excluded", "are excluded", "ruled out",
    "has been removed", "have been removed", "not enlarged") + r")\b", re.I)
#: The negation triggers that are themselves a resolution (the finding was there): historical too.
_RESOLUTION = re.compile(r"\b(?:resol\w+|clear(?:ed|ing)|removed|removal|no longer)\b", re.I)
#: Questions: the mention is asked about, not stated.
_HYPOTHETICAL_BEFORE = re.compile(r"\b(?:" + _words(
    "rule out", "r/o", "to evaluate for", "evaluate for", "evaluation for", "to assess for", "assess for",
    "to exclude", "in order to exclude", "to rule out", "if there is", "in case of", "should there be",
    "question of", "concern for possible", "screen for", "screening for", "correlate for", "correlate clinically for",
    "clinically correlate for", "clinical correlation for", "correlation for") + r")\b", re.I)
#: Hedges before the mention in its sentence.
_HEDGE_BEFORE = re.compile(r"\b(?:" + _words(
    "may", "might", "could", "possible", "possibly", "probable", "probably", "likely", "suggest", "suggests",
    "suggested", "suggesting", "suggestive", "suspicious", "suspected", "suspect", "concerning", "concern for",
    "question", "questionable", "differential", "differential diagnosis", "consider", "considered", "considering",
    "equivocal", "indeterminate", "presumably", "presumed", "presumptive", "vs", "versus", "atypical", "early",
    "underlying", "suspicion", "worrisome", "unsure whether", "unsure if", "uncertain whether", "unclear whether",
    "unclear if", "not certain whether", "either", "favor", "favored", "favour", "cannot be distinguished",
    "cannot be differentiated", "indistinguishable", "or possibly", "in the appropriate clinical setting",
    "in the appropriate clinical context", "in the right clinical setting", "in the proper clinical setting")
    + r")\b|\?", re.I)
#: Hedges after the mention ("A is likely", "A?", "A may be present", "A may not be demonstrated",
#: "in the appropriate clinical setting"). "Of uncertain etiology/significance" hedges what the finding
#: means, not whether it is there.
_HEDGE_AFTER = re.compile(r"^[^.;,]{0,40}?\b(?:is |are |be )?(?:possible|possibly|suspected|likely|questioned|"
                          r"not certain|uncertain(?!\s+(?:etiology|aetiology|significance|clinical significance|origin|"
                          r"nature|cause|age|chronicity))|favored|presumed|"
                          r"(?:may|might|could)\s+(?:not\s+)?(?:also\s+)?(?:be\s+)?(?:present|seen|demonstrated|visible|"
                          r"visualized|identified|detected|evident|apparent|appear|have\s+this\s+appearance)|"
                          r"in\s+the\s+(?:appropriate|right|proper)\s+clinical\s+(?:setting|context))\b|^[^.;]{0,40}\?",
                          re.I)
# --- Historical cues: the three lexicons of the past, each for its own question --------------------

#: Historical statements: the mention is stated about the past (``Assertion.historical``).
_HISTORICAL = re.compile(r"\b(?:" + _words(
    "history of", "hx of", "h/o", "previously treated", "previously resected", "previously seen",
    "previously noted", "previously demonstrated", "previously described", "previous", "status post", "s/p",
    "interval resolution", "resolved", "remote", "old", "healed", "prior history",
    "known history", "post-surgical", "postsurgical", "post-operative", "postoperative", "removed", "resected",
    "in the past") + r")\b|\bprior\b(?!\s+(?:study|studies|exam\w*|radiograph\w*|films?|ct|mri?|imaging|images|"
    r"comparison|chest))|\b(?:in|from) (?:19|20)\d\d\b", re.I)
#: A stated value about a past lesion, read over its whole sentence or line ("a BI-RADS 4 lesion was
#: biopsied previously"; radlite.text.spans.is_historical): the category is not the current assessment.
HISTORICAL_STATEMENT = re.compile(r"\b(?:previous(?:ly)?|prior|was biopsied|were biopsied|history of|formerly|"
                                  r"had been|in (?:19|20)\d\d|old)\b", re.I)
#: The words just before a size that make it the prior study's ("previously 6 mm", "from 8 mm", "was
#: (measuring) 9 mm"): matched against the text that ends at the size (radlite.timeline.lesions).
PRIOR_SIZE = re.compile(r"(?:previously|prior(?:ly)?|formerly|from|was|were|compared to|versus|vs\.?)\s*(?:\(\s*)?"
                        r"(?:measur\w*\s+)?$", re.I)

# --- Coordination: "A or B", "A and/or B", "A versus B", "A, B or C" ---------------------------------

_CONNECTOR = r"(?:or|and\s*/\s*or|versus|vs\.?|or\s+possibly|or\s+less\s+likely|or\s+more\s+likely)"
#: Words that may stand between a finding word and its connector ("atelectatic changes or pneumonia").
_GAP_WORD = r"(?!(?:in|at|on|of|the|a|an|is|are|was|were|be|been|seen|noted|present|within|to|from|with|and|no|"\
            r"not|without|there|this|that|which|than|for|by|as|seen)\b)[\w'-]+"
#: An item of "A, B or C" is a finding: not a negation, nor a hedge or a cause ("effusion, possibly from
#: pleuritis or ..." weighs the cause, not the effusion).
_LIST_ITEM = r"(?!\s*(?:no|not|without|there|normal|possibly|probably|likely|perhaps|maybe|may|might|could|from|" \
             r"due|secondary|related|caused|which|that|consistent|compatible|suggest\w*)\b)\s*[\w'-]+(?:\s+[\w'-]+){0,3}"
_OR = r"(?:or|and\s*/\s*or|or\s+possibly)"
#: "A or B", "A versus B"; a comma list only before "or" ("A, B or C": "opacity, atelectasis versus
#: pneumonia" names the opacity and then weighs two readings of it).
_COORDINATED_AFTER = re.compile(rf"^(?:\s+{_GAP_WORD}){{0,2}}(?:\s+{_CONNECTOR}|(?:\s*,{_LIST_ITEM})+,?\s+{_OR})(?=\s)",
                                re.I)
#: "A or B": B after a connector, with at most three words of its own before it ("or a small amount of").
_COORDINATED_BEFORE = re.compile(rf"(?<![\w-])(?P<word>[\w'-]+),?\s+{_CONNECTOR}\s+(?:[\w'-]+\s+){{0,4}}$", re.I)
#: Words of size, degree or side: "small or moderate effusion" coordinates the size, not the finding.
_SIZE_WORDS = re.compile(r"^(?:small|tiny|trace|trivial|mild|minimal|moderate|large|severe|marked|right|left|"
                         r"bilateral|unilateral|upper|lower|acute|chronic|new|old|early|focal|patchy|diffuse|"
                         r"minor|slight|subtle|stable|increased|decreased|one|two|three|single|multiple)$", re.I)


#: A scar as the other alternative ("atelectasis or scarring", "scar versus atelectasis") asks whether
#: the finding is old, not whether it is there: the finding stays present (NegBio's annotators' reading
#: on IU X-ray; see docs/values.md).
_SEQUELA = re.compile(r"^(?:(?:[\w'-]+\s+){0,3}?(?:scar\w*|fibros\w*|fibrotic|chronic)\b)", re.I)
_SEQUELA_BEFORE = re.compile(r"\b(?:scar\w*|fibros\w*|fibrotic|chronic(?:\s+[\w'-]+)?)$", re.I)


def _coordinated(text: str, start: int, end: int, left: int, right: int) -> tuple[int, int] | None:
    """The span of the words making the mention one of coordinated alternatives, if any."""
    after = _COORDINATED_AFTER.match(text[end:right])
    if after and not _SEQUELA.match(text[end + after.end():right].lstrip()):
        return end + after.start(), end + after.end()
    before = _COORDINATED_BEFORE.search(text[left:start])
    if before and not _SIZE_WORDS.match(before.group("word")) and not _SEQUELA_BEFORE.search(
            text[left:left + before.start() + len(before.group("word"))]):
        return left + before.start(), left + before.end()
    return None


#: A verb of the mention's own between it and a later denied negation ("A is present and B cannot be
#: excluded"): the denial then has another subject.
_OWN_PREDICATE = re.compile(r"\b(?:is|are|was|were|has|have|had|seen|noted|present|identified|demonstrated|shows?|"
                            r"appears?)\b", re.I)
#: The copula of the denial itself ("A is not excluded", "A is also not excluded").
_DENIAL_COPULA = re.compile(r"\b(?:is|are|was|were)(?:\s+(?:also|still|yet))?\s*$", re.I)
#: A passive denial ("cannot be excluded", "is not ruled out") is about what stands before it.
_PASSIVE_DENIAL = re.compile(r"\bbe\s|excluded|ruled\s+out", re.I)
#: The conjunction that makes a comma list one coordinated subject ("A, B or C cannot be excluded").
_LIST_CONJUNCTION = re.compile(r"\b(?:or|and|nor)\b", re.I)


def _denial(text: str, start: int, end: int, left: int, right: int) -> re.Match | None:
    """The denied negation ("cannot exclude", "is not excluded") of the mention's clause that governs it.

    Before the mention an active denial governs it ("cannot exclude A"); a passive one ("B cannot be
    excluded, A ...") is its own subject's. After the mention, only when the mention is (part of) its
    subject: no verb of the mention's own in between, and a comma list only when coordinated ("A, B or
    C cannot be excluded"; in "A, B, C difficult to exclude" the denial is C's)."""
    masked = _masked(text, left, right)
    for denial in _DENIED_NEGATION.finditer(masked):
        if left + denial.start() < start:
            if _PASSIVE_DENIAL.search(denial.group()):
                continue
            return denial
        between = _DENIAL_COPULA.sub("", text[end:left + denial.start()])
        if _OWN_PREDICATE.search(between):
            continue
        if "," in between and not _LIST_CONJUNCTION.search(between.rsplit(",", 1)[1]):
            continue
        return denial
    return None


def _masked(text: str, left: int, right: int) -> str:
    """text[left:right] with pseudo-negations blanked (same length, so offsets hold)."""
    return _PSEUDO.sub(lambda m: " " * len(m.group()), text[left:right])


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    found = None
    for match in pattern.finditer(text):
        found = match
    return found


def assert_mention(text: str, start: int, end: int) -> Assertion:
    """What ``text`` asserts about the mention text[start:end] (see the module docstring)."""
    s_left, s_right = sentence_bounds(text, start, end)
    left, right = _clause(text, start, end)
    before, after = _masked(text, left, start), _masked(text, end, right)
    historical = bool(_HISTORICAL.search(text, s_left, s_right))
    hypothetical = _last(_HYPOTHETICAL_BEFORE, before)

    def decided(status: Status, rule: str, m: re.Match | None, base: int) -> Assertion:
        cue = (base + m.start(), base + m.end()) if m else (None, None)
        return Assertion(status, historical, bool(hypothetical), rule, *cue)

    denied = _denial(text, start, end, left, right)
    if denied:
        return decided("uncertain", "denied negation", denied, left)
    negation = _last(_NEGATION_BEFORE, before)
    if negation and not _CLOSED_PHRASE.search(before, negation.end()):
        return Assertion("absent", historical or bool(_RESOLUTION.search(negation.group())), bool(hypothetical),
                         "negation", left + negation.start(), left + negation.end())
    post = _NEGATION_AFTER.search(after)
    if post:
        resolved = bool(_RESOLUTION.search(post.group()))
        return Assertion("absent", historical or resolved, bool(hypothetical), "negation",
                         end + post.start(), end + post.end())
    if hypothetical:
        return decided("uncertain", "hypothetical", hypothetical, left)
    coordinated = _coordinated(text, start, end, s_left, s_right)
    if coordinated:
        return Assertion("uncertain", historical, False, "coordination", *coordinated)
    hedge_left = _hedge_left(text, s_left, start)
    hedge = _last(_HEDGE_BEFORE, text[hedge_left:start])
    if hedge:
        return decided("uncertain", "hedge", hedge, hedge_left)
    hedge_after = _HEDGE_AFTER.search(text[end:s_right + 1])
    if hedge_after:
        return decided("uncertain", "hedge", hedge_after, end)
    return Assertion("present", historical)


def assert_mentions(text: str, spans: list[tuple[int, int]]) -> list[Assertion]:
    """``assert_mention`` for each (start, end) of one text, in the order given."""
    return [assert_mention(text, s, e) for s, e in spans]
