"""Study dates: a date column's value or a date stated in the report head, as a sortable ISO string.

A study carries a date ("2024-03-01") or a date and time ("2024-03-01T10:30"); the time matters
when a patient had two studies on one day. Values that are no date give None: the study is then
ordered by arrival, and its pairing says so.

Numeric dates with the year last are read by their separator: dotted and dashed ones day first
(05.03.2024, 05-03-2024: German, Dutch, Indian usage), slashed ones month first (US usage) unless a
field over 12 says otherwise or the caller knows the text writes day first (``writes_day_first``).
"""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), 1)}
_TIME = r"(?:[ T,]+(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?P<ampm>[AaPp][Mm])?)?"
_FORMS = (
    re.compile(r"(?P<year>(?:19|20)\d\d)[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})" + _TIME),
    re.compile(r"(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})(?P=sep)(?P<year>(?:19|20)\d\d)" + _TIME),
    re.compile(r"(?P<day>\d{1,2})[- ](?P<mname>[A-Za-z]{3})[a-z]*\.?[- ,]+(?P<year>(?:19|20)\d\d)" + _TIME),
    re.compile(r"(?P<mname>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2}),? (?P<year>(?:19|20)\d\d)" + _TIME),
    re.compile(r"(?P<year>(?:19|20)\d\d)(?P<month>\d\d)(?P<day>\d\d)(?:T?(?P<hour>\d\d)(?P<minute>\d\d))?"),
)
#: A header line that states when the study was done (not a comparison's date).
_LABEL = (r"(?:(?:exam(?:ination)?|study|scan) date|date of (?:exam(?:ination)?|service|study|scan|procedure)|dos|"
          r"date(?! of birth)(?: and time)?|performed(?: on)?)")
_HEADER = re.compile(rf"^[ \t]*{_LABEL}[ \t]*[:#-]?[ \t]*(?P<value>[^\n]{{6,40}})$", re.I | re.M)
#: The same label further along a line ("Name: ...   Date: 23/03/2024"), not a comparison's date.
_INLINE = re.compile(rf"(?<!comparison )(?<!prior )\b{_LABEL}[ \t]*[:#-][ \t]*(?P<value>[^\n]{{6,40}})", re.I)
_SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})/(?:19|20)\d\d\b")
HEADER_CHARS = 600


def writes_day_first(text: str) -> bool:
    """The text's slashed dates are day first: one has a first field over 12, and none a second."""
    pairs = [(int(a), int(b)) for a, b in _SLASHED.findall(text)]
    return any(a > 12 >= b for a, b in pairs) and not any(b > 12 >= a for a, b in pairs)


def _month_day(fields: dict, day_first: bool) -> tuple[int | None, int]:
    """(month, day) of a matched form; a year-last numeric date by its separator and fields."""
    if fields.get("mname"):
        return _MONTHS.get(fields["mname"].lower()[:3]), int(fields["day"])
    if fields.get("first") is None:
        return int(fields["month"]), int(fields["day"])
    first, second = int(fields["first"]), int(fields["second"])
    if first > 12 or (second <= 12 and (day_first or fields["sep"] != "/")):
        return second, first
    return first, second


def parse_date(value: str | None, day_first: bool = False) -> str | None:
    """ISO ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` from one date value in a common form; None when
    it holds no valid date (month 13, 31 February, free text). ``day_first`` reads an ambiguous
    slashed date (05/03/2024) as 5 March."""
    if not value:
        return None
    for form in _FORMS:
        m = form.search(value.strip())
        if m is None:
            continue
        fields = m.groupdict()
        month, day_of_month = _month_day(fields, day_first)
        try:
            day = date(int(fields["year"]), month or 0, day_of_month)
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
    """The study date a report states in its head ("DATE: 03/01/2024", "Exam date: 1 Mar 2024 10:30"),
    on a line of its own first, else further along a line; slashed dates read as the report writes them."""
    head, day_first = text[:HEADER_CHARS], writes_day_first(text)
    for pattern in (_HEADER, _INLINE):
        for m in pattern.finditer(head):
            found = parse_date(m.group("value"), day_first)
            if found:
                return found
    return None
