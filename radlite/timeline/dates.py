"""Study dates: a date column's value or a date stated in the report head, as a sortable ISO string.

A study carries a date ("2024-03-01") or a date and time ("2024-03-01T10:30"); the time matters
when a patient had two studies on one day. Values that are no date give None: the study is then
ordered by arrival, and its pairing says so.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), 1)}
_TIME = r"(?:[ T,]+(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?P<ampm>[AaPp][Mm])?)?"
_FORMS = (
    re.compile(r"(?P<year>(?:19|20)\d\d)[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})" + _TIME),
    re.compile(r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d\d)" + _TIME),
    re.compile(r"(?P<day>\d{1,2})[- ](?P<mname>[A-Za-z]{3})[a-z]*\.?[- ,]+(?P<year>(?:19|20)\d\d)" + _TIME),
    re.compile(r"(?P<mname>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2}),? (?P<year>(?:19|20)\d\d)" + _TIME),
    re.compile(r"(?P<year>(?:19|20)\d\d)(?P<month>\d\d)(?P<day>\d\d)(?:T?(?P<hour>\d\d)(?P<minute>\d\d))?"),
)
#: A header line that states when the study was done (not a comparison's date).
_HEADER = re.compile(r"^[ \t]*(?:exam(?:ination)? date|study date|date of (?:exam(?:ination)?|service|study)|dos|"
                     r"date(?: and time)?|performed(?: on)?)[ \t]*[:#-]?[ \t]*(?P<value>[^\n]{6,40})$", re.I | re.M)
HEADER_CHARS = 600


def parse_date(value: str | None) -> str | None:
    """ISO ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` from one date value in a common form; None when
    it holds no valid date (month 13, 31 February, free text)."""
    if not value:
        return None
    for form in _FORMS:
        m = form.search(value.strip())
        if m is None:
            continue
        fields = m.groupdict()
        month = _MONTHS.get((fields.get("mname") or "").lower()[:3]) if fields.get("mname") else int(fields["month"])
        try:
            day = date(int(fields["year"]), month or 0, int(fields["day"]))
        except (TypeError, ValueError):
            continue
        if fields.get("hour") is None:
            return day.isoformat()
        hour = int(fields["hour"]) % 12 + (12 if (fields.get("ampm") or "").lower() == "pm" else 0) \
            if fields.get("ampm") else int(fields["hour"])
        try:
            return datetime(day.year, day.month, day.day, hour, int(fields["minute"])).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            return day.isoformat()
    return None


def header_date(text: str) -> str | None:
    """The study date a report states in its head ("DATE: 03/01/2024", "Exam date: 1 Mar 2024 10:30")."""
    for m in _HEADER.finditer(text[:HEADER_CHARS]):
        found = parse_date(m.group("value"))
        if found:
            return found
    return None
