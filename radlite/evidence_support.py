"""`supported`: does a value's own evidence say what the value says?

``grounded`` tells that a value's evidence words are in the report; ``supported`` reads those words
with the assertion engine (radlite.text.assertion) and tells whether they assert the value:

- abnormalities: a positive or uncertain finding whose evidence negates it ("no pneumothorax") is
  not supported; a negative finding whose evidence is a mention asserted present is not either;
- staging: the stage the evidence states ("M1b"), else N0/N+ or M0/M1 computed from the node or
  metastasis mentions inside the evidence (radlite.rules.stage_findings): M1 on "No evidence of
  distant metastasis" is not supported;
- entities: OBS-DP needs the mention asserted present, OBS-DA absent, OBS-U uncertain; anatomy
  (ANAT-DP) is not an assertion;
- temporal_changes: a change (new, worse, better, unchanged) of a finding the evidence negates
  ("no new effusion") is not supported; a resolution is.

True / false as above; None where there is nothing to check (no evidence, not grounded, a table or
value with no check: RADS categories, QA answers). Each task names its check (``Task.support_check``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from radlite.evidence import Evidence
from radlite.rules.stage_findings import stage_within
from radlite.tasks import TASKS
from radlite.tasks.base import resolve_hook
from radlite.text.assertion import STATUS_OF_CHEXPERT as _STATUS_OF_CHEXPERT
from radlite.text.assertion import STATUS_OF_RADGRAPH as _STATUS_OF_RADGRAPH
from radlite.text.assertion import assert_mention
from radlite.text.tnm import STAGE_TOKEN as _STAGE


def abnormality_supported(row: dict, text: str, start: int, end: int) -> bool | None:
    claimed = _STATUS_OF_CHEXPERT.get(row.get("status") or "")
    if claimed is None or row.get("finding") == "no finding":
        return None
    asserted = assert_mention(text, start, end).status
    if claimed in ("present", "uncertain"):
        return asserted != "absent"
    # a negative label: contradicted only by a plain present mention; "heart size is normal" is the
    # evidence of a negative label without a negation word, so only a mention's own words count
    return not (asserted == "present" and not re.search(r"normal|unremarkable|clear|within", text[start:end], re.I))


def _stage(letter: str) -> Callable[[dict, str, int, int], bool | None]:
    def check(row: dict, text: str, start: int, end: int) -> bool | None:
        value = row.get(f"{letter.lower()}_stage")
        if not value:
            return None
        stated = [m.group("stage").upper() for m in _STAGE.finditer(text, start, end)
                  if m.group("stage").upper().startswith(letter)]
        if stated:
            return value in stated
        computed = stage_within(text, start, end, letter).value
        if computed is None:
            return None
        return computed == value if letter == "M" else (computed == "N0") == (value == "N0")
    return check


def entity_supported(row: dict, text: str, start: int, end: int) -> bool | None:
    claimed = _STATUS_OF_RADGRAPH.get(row.get("label") or "")
    return None if claimed is None else assert_mention(text, start, end).status == claimed


def change_supported(row: dict, text: str, start: int, end: int) -> bool | None:
    if not row.get("change"):
        return None
    assertion = assert_mention(text, start, end)
    return row["change"] == "resolved" or assertion.status != "absent" or assertion.historical


n_stage_supported = _stage("N")
m_stage_supported = _stage("M")


def supported(task: str, row: dict, evidence: Evidence | None, text: str) -> bool | None:
    """Whether the row's value is asserted by its own evidence in ``text`` (see the module docstring)."""
    check = resolve_hook(TASKS[task].support_check) if task in TASKS else None
    if check is None or evidence is None or not evidence.grounded:
        return None
    return check(row, text, evidence.start, evidence.end)
