"""NI-RADS (ACR white paper, Aiken et al., JACR 2018): the categories of a post-treatment head and neck
cancer surveillance CT / MRI / PET-CT, one for the primary site and one for the neck, from the
enhancement and morphology the report states.

Primary site: 1 expected post-treatment change (non-enhancing tissue, diffuse mucosal enhancement,
no recurrence); 2A focal superficial (mucosal) non-mass-like enhancement; 2B deep ill-defined
non-mass-like soft tissue with mild enhancement; 3 new or enlarging discrete nodule / mass (intense
enhancement); 4 definite recurrence (pathologically proven or definite progression). Neck: 1 no
residual / new abnormal nodes; 2 residual or enlarging node without new necrosis or extranodal
extension; 3 new or enlarging node with necrosis or extranodal extension, or a new pathological
node; 4 definite nodal recurrence. Each site takes its most suspicious stated feature; the report
takes the higher of the two. Left open: a site whose sentences state none of these features (no row
for it), and the report's category when only one site is described.
"""

from __future__ import annotations

import re

from radlite.rads_formulas.formula import Computed, RadsFormula
from radlite.rads_formulas.mentions import absent, asserted, feature_spans, sentences_with, trimmed
from radlite.report import Report

VERSION = "NI-RADS 2018"

#: (category, pattern): the most suspicious asserted feature wins; "1" may also be stated as a denial.
PRIMARY = (
    ("4", r"\b(?:biopsy|pathologically)[- ]proven (?:local )?recurren\w*|\bdefinite (?:local )?(?:recurrence|progression)\b"),
    ("3", r"\b(?:new|enlarging|growing) (?:\w+ ){0,3}(?:discrete )?(?:enhancing )?(?:nodule|mass)\b|"
          r"\bdiscrete (?:\w+ ){0,2}(?:nodule|mass)\b|\bmass-?like (?:enhancement|soft tissue)\b"),
    ("2B", r"\bdeep (?:\w+ ){0,3}(?:soft tissue|enhancement)\b|\bill-defined (?:\w+ ){0,3}(?:soft tissue|enhancement)\b"),
    ("2A", r"\bfocal (?:superficial |mucosal )+(?:non-?mass-?like )?enhancement\b|\b(?:superficial|mucosal) "
           r"(?:non-?mass-?like )?enhancement\b(?<!diffuse mucosal enhancement)"),
    ("1", r"\bexpected post-?(?:treatment|operative|surgical|radiation|therapy) change\w*|\bdiffuse mucosal enhancement\b|"
          r"\bnon-?enhancing (?:\w+ ){0,2}(?:tissue|scar|fibrosis)\b|\bpost-?(?:treatment|radiation) (?:changes|fibrosis)\b"),
)
_PRIMARY_DENIED = re.compile(r"\b(?:recurren\w*|residual (?:disease|tumou?r)|(?:abnormal|suspicious) enhancement|mass)\b",
                             re.I)
NECK = (
    ("4", r"\b(?:biopsy|pathologically)[- ]proven (?:nodal )?(?:recurrence|metastas\w*)\b"),
    ("3", r"\bnecrotic (?:\w+ ){0,3}(?:lymph )?nodes?\b|\b(?:lymph )?nodes? with (?:\w+ ){0,2}(?:necrosis|extra-?nodal "
          r"extension|extra-?capsular extension)\b|\b(?:gross )?extra-?(?:nodal|capsular) extension\b|\bnew (?:\w+ ){0,3}"
          r"(?:enlarged|pathologic\w*|abnormal|suspicious) (?:lymph )?nodes?\b"),
    ("2", r"\b(?:mildly )?(?:enlarging|residual|persistent) (?:\w+ ){0,4}(?:lymph )?nodes?\b"),
)
_NODES_DENIED = re.compile(r"\b(?:lymph ?nodes?|nodes?|lymphadenopathy|adenopathy)\b", re.I)
_PRIMARY_WORDS = re.compile(r"\bprimary(?: tumou?r)? site\b|\b(?:resection|surgical|operative|treatment|tumou?r) bed\b|"
                            r"\bflap\b|\bprimary\b", re.I)
_NODE_WORDS = re.compile(r"\bnodes?\b|\bnodal\b|\b(?:lymph)?adenopathy\b|\bneck\b", re.I)
_CONTEXT = re.compile(r"\bneck\b|head and neck|larynx|laryngeal|pharyn|oral cavity|tongue|tonsil|parotid", re.I)
_TREATED = re.compile(r"post-?treatment|post-?therapy|surveillance|status post|\bs/p\b|resection|laryngectomy|"
                      r"glossectomy|chemo-?radiation|chemoradiotherapy|radiation therapy|radiotherapy|\bflap\b|treated",
                      re.I)
_PATTERNS = {name: [(cat, re.compile(p, re.I)) for cat, p in table] for name, table in (("primary", PRIMARY),
                                                                                         ("neck", NECK))}


def category(found: list[str], denied: bool, order: tuple[str, ...]) -> str | None:
    """The most suspicious category among the features found; 1 when the only statement is a denial."""
    if found:
        return max(found, key=order.index)
    return "1" if denied else None


def _features(text: str, sentences: list[tuple[int, int]], table) -> list[tuple[str, re.Match]]:
    return [(cat, m) for s, e in sentences for cat, pattern in table for m in pattern.finditer(text, s, e)
            if asserted(text, m.start(), m.end())]


def _denied(pattern: re.Pattern, text: str, sentences: list[tuple[int, int]]) -> re.Match | None:
    return next((m for s, e in sentences for m in pattern.finditer(text, s, e) if absent(text, m.start(), m.end())),
                None)


class NiRads(RadsFormula):
    system = "NI-RADS"
    version = VERSION
    order = ("1", "2A", "2", "2B", "3", "4")
    nothing_read = "no primary-site or nodal feature of the NI-RADS lexicon stated"

    def applies(self, report: Report) -> bool:
        """NI-RADS assesses surveillance imaging of treated head and neck cancer."""
        head = report.examination or report.text[:300]
        return report.modality in ("CT", "MR", "PET") and bool(_CONTEXT.search(head)) and bool(
            _TREATED.search(report.text))

    def lesions(self, report: Report) -> list[Computed]:
        """One row for the primary site and one for the neck, where the report states their features."""
        text, spans, out = report.text, feature_spans(report), []
        for site, words, denial in (("primary site", _PRIMARY_WORDS, _PRIMARY_DENIED),
                                    ("neck", _NODE_WORDS, _NODES_DENIED)):
            sentences = sentences_with(words, text, spans)
            if site == "neck":
                sentences = [s for s in sentences if not _PRIMARY_WORDS.search(text, *s)] or sentences
            found = _features(text, sentences, _PATTERNS["primary" if site == "primary site" else "neck"])
            denied = _denied(denial, text, sentences)
            cat = category([c for c, _ in found], bool(denied), self.order)
            if cat is None:
                continue
            top = max(found, key=lambda f: self.order.index(f[0]))[1] if found else denied
            features = f"{site}: {top.group().lower()}" if found else f"{site}: {top.group().lower()} denied"
            left = max(s for s, e in sentences if s <= top.start())
            right = min(e for s, e in sentences if e >= top.end())
            out.append(Computed(self.system, self.version, cat, features, trimmed(text, left, right), site))
        return out

    def exam(self, report: Report, lesions: list[Computed]) -> Computed | None:
        """The report's category is the higher of the primary site's and the neck's: open (with the reason)
        when the report describes only one of them, since the other could be the higher."""
        found = {c.site for c in lesions}
        if lesions and found != {"primary site", "neck"}:
            missing = ({"primary site", "neck"} - found).pop()
            why = f"{missing} not described (the report's category is the higher of the two)"
            return Computed(self.system, self.version, None, why, lesions[0].evidence, reason=why)
        return super().exam(report, lesions)
