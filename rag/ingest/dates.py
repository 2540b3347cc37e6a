"""Publication dates: normalise a metadata date, or infer one from the text where that is sound.

Order of trust (recorded in `Article.date_source`): a `--date` flag ("flag") > the input's own metadata
("metadata") > the text ("text") > none ("none", date stays null and the ingest report lists it).

What counts as sound evidence in the text (English only):
- a full date with a year near the top of the article (the dateline zone, first `DATELINE_CHARS`
  characters): "November 24, 2025", "24 November 2025", "Nov. 24, 2025", "2025-11-24",
  optionally after a weekday;
- a weekday with a month and day but no year ("on Monday, November 24"): the date is the most recent
  day on or before the reference date (today by default) that has that month, day and weekday, looked
  for in the last `WEEKDAY_YEARS` years. With the seed article and any reference date in 2026 after
  November 24, that is 2025-11-24. A weekday/day pair that names no real day (Monday, February 30) is
  no evidence.

Not handled, on purpose: a month and day without a weekday or year (which year?), relative words
("yesterday", "last Monday"), dates deep in the body (they are usually about other events), other
languages.
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime, timedelta

from rag import calendar_names
from rag.calendar_names import MONTHS

DATELINE_CHARS = 600
WEEKDAY_YEARS = 11  # the (month, day, weekday) pattern always recurs within 11 years
EARLIEST = date(1800, 1, 1)

WEEKDAYS = {**calendar_names.WEEKDAYS, **calendar_names.WEEKDAY_ABBREVIATIONS}  # datelines abbreviate
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?P<weekday>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:1[89]|20)\d\d)"

_FULL_DATES = [
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),  # November 24, 2025
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I),  # 24 November 2025
    re.compile(r"\b(?P<year>(?:1[89]|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),  # 2025-11-24
]
_WEEKDAY_DATES = [
    re.compile(rf"\b{_WEEKDAY},?\s+(?:the\s+)?{_MONTH}\s+{_DAY}\b(?!,?\s*\d)", re.I),  # Monday, November 24
    re.compile(rf"\b{_WEEKDAY},?\s+(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}\b(?!,?\s*\d)", re.I),  # Monday 24 November
]


def _month(s: str) -> int:
    return int(s) if s.isdigit() else MONTHS[s.lower().rstrip(".")]


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_metadata_date(value: object) -> str | None:
    """An ISO YYYY-MM-DD day from a metadata value, or None if it is not a recognisable date.

    Accepts ISO dates and datetimes (the day as written, no time-zone shift), RFC 2822 dates (feeds),
    `datetime`/`date` objects (YAML), and the full-date forms of `infer_date`.
    """
    if isinstance(value, datetime):
        d: date | None = value.date()
    elif isinstance(value, date):
        d = value
    elif isinstance(value, str) and value.strip():
        d = _parse_date_string(value.strip()[:100])
    else:
        return None
    if d is None or not EARLIEST <= d <= date(2200, 1, 1):
        return None
    return d.isoformat()


def _parse_date_string(s: str) -> date | None:
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ])", s)
    if m:
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    try:
        parsed = email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is not None:
        return parsed.date()
    for rx in _FULL_DATES:
        fm = rx.fullmatch(s)
        if fm:
            return _make(int(fm["year"]), _month(fm["month"]), int(fm["day"]))
    return None


def infer_date(text: str, today: date | None = None) -> str | None:
    """The publication day the text itself states (see module doc), as ISO, or None.

    >>> infer_date("Trump said on Monday, November 24, that talks...", today=date(2026, 11, 27))
    '2025-11-24'
    >>> infer_date("GENEVA, 24 November 2025 - Talks ...")
    '2025-11-24'
    >>> infer_date("The talks on November 24 went well.") is None
    True
    """
    today = today or date.today()
    head = text[:DATELINE_CHARS]
    best: tuple[int, date] | None = None  # (position, day): the earliest sound date in the head
    for rx in _FULL_DATES:
        for m in rx.finditer(head):
            d = _make(int(m["year"]), _month(m["month"]), int(m["day"]))
            if d is not None and d <= today and (best is None or m.start() < best[0]):
                best = (m.start(), d)
    if best is not None:
        return best[1].isoformat()
    # A weekday pins the year; look through the whole text, the first sound mention wins.
    found: list[tuple[int, date]] = []
    for rx in _WEEKDAY_DATES:
        for m in rx.finditer(text):
            d = weekday_date(_month(m["month"]), int(m["day"]), WEEKDAYS[m["weekday"].lower().rstrip(".")], today)
            if d is not None:
                found.append((m.start(), d))
                break
    return min(found)[1].isoformat() if found else None


def weekday_date(month: int, day: int, weekday: int, today: date) -> date | None:
    """The most recent day on or before `today` with this month, day and weekday (0 = Monday)."""
    for year in range(today.year, today.year - WEEKDAY_YEARS - 1, -1):
        d = _make(year, month, day)
        if d is not None and d <= today and d.weekday() == weekday:
            return d
    return None


def parse_flag_date(value: str) -> str:
    """A `--date` value: ISO YYYY-MM-DD, or 'today' / 'yesterday'. Raises ValueError otherwise."""
    v = value.strip().lower()
    if v == "today":
        return date.today().isoformat()
    if v == "yesterday":
        return (date.today() - timedelta(days=1)).isoformat()
    return date.fromisoformat(v).isoformat()
