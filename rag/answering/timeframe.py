"""Date expressions in a question -> an inclusive date range, resolved against an "as of" day.

Handles: today, yesterday, "N days ago", this/last week, this/last month, this/last year, since/after
<weekday|date>, before/until <date>, on/in <date> ("24 November", "November 24, 2025", "2025-11-24",
"March 2005", "2005"), and bare weekdays ("on Monday" = the most recent Monday up to as-of).
A date without a year means its most recent occurrence on or before as-of.

A date the question names that cannot exist ("2025-02-30", "30 February", "March 0000", "1000000 days ago",
anything outside years 1-9999) raises InputError naming it: answering over all dates, or refusing for
"no article on that day", would hide the typo from the user. A day number that no month has ("40 May")
is not read as a date at all (in "the 40 may vote" it is not one).

Not handled: ranges written as "between X and Y", relative expressions in other languages, times of day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.calendar_names import MONTH_PATTERN, MONTHS, WEEKDAY_PATTERN, WEEKDAYS
from rag.errors import InputError

_MON = rf"({MONTH_PATTERN})"
_WD = rf"({WEEKDAY_PATTERN})"


@dataclass(frozen=True)
class Span:
    since: date | None
    until: date | None
    phrase: str  # the words that set it, for display

    def iso(self) -> tuple[str | None, str | None]:
        return (self.since.isoformat() if self.since else None, self.until.isoformat() if self.until else None)


def _recent(month: int, day: int, as_of: date) -> date | None:
    for year in range(as_of.year, as_of.year - 8, -1):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if d <= as_of:
            return d
    return None


def _last_weekday(wd: int, as_of: date) -> date:
    return as_of - timedelta(days=(as_of.weekday() - wd) % 7)


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _no_such_day(phrase: str, why: str) -> InputError:
    return InputError(f"the question names {phrase!r}, which is not a day on the calendar ({why}): "
                      "correct the date, or pass --since/--until YYYY-MM-DD")


def _day(year: int, month: int, day: int, phrase: str) -> date:
    """date(year, month, day), or InputError naming the phrase and why that day does not exist."""
    if not 1 <= year <= 9999:
        raise _no_such_day(phrase, f"year {year} is outside years 1 to 9999")
    if not 1 <= month <= 12:
        raise _no_such_day(phrase, f"there is no month {month}")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _no_such_day(phrase, f"{calendar.month_name[month]} {year} has {last} days")
    return date(year, month, day)


def _point(text: str, as_of: date) -> tuple[date, date] | None:
    """A single day, month or year named by text (already lower-case), as a (first, last) range.
    Raises InputError for a date that cannot exist (module doc)."""
    t = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t):
        d = _day(int(m[1]), int(m[2]), int(m[3]), t)
        return d, d
    if m := re.fullmatch(rf"(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MON},? ?(\d{{4}})?", t):
        day, mon, year = int(m[1]), MONTHS[m[2][:4] if m[2].startswith("sept") else m[2][:3]], m[3]
    elif m := re.fullmatch(rf"{_MON} (\d{{1,2}})(?:st|nd|rd|th)?,? ?(\d{{4}})?", t):
        mon, day, year = MONTHS[m[1][:3]], int(m[2]), m[3]
    elif m := re.fullmatch(rf"{_MON},? (\d{{4}})", t):
        first = _day(int(m[2]), MONTHS[m[1][:3]], 1, t)
        return _month_span(first.year, first.month)
    elif m := re.fullmatch(r"(19|20)\d\d", t):
        return date(int(t), 1, 1), date(int(t), 12, 31)
    elif m := re.fullmatch(_WD, t):
        d = _last_weekday(WEEKDAYS[m[1]], as_of)
        return d, d
    else:
        return None
    if not 1 <= day <= 31:  # no month has it: "the 40 may vote" names no date
        return None
    if year:
        found: date | None = _day(int(year), mon, day, t)
    elif day > calendar.monthrange(2000, mon)[1]:  # 2000: a leap year, so 29 February passes
        raise _no_such_day(t, f"{calendar.month_name[mon]} never has {day} days")
    else:
        found = _recent(mon, day, as_of)
    return (found, found) if found else None


_POINT = rf"(\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MON}(?:,? \d{{4}})?|{_MON} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?|{_MON},? \d{{4}}|{_WD}|(?:19|20)\d\d)"


def resolve(question: str, as_of: date) -> Span | None:
    """The date range a question asks about, or None when it names no date (module doc).
    Raises InputError when the date it names cannot exist, or falls outside years 1-9999 when read
    against as_of ("1000000 days ago")."""
    q = " ".join(question.lower().replace(",", ", ").split()).replace(" ,", ",")
    q = re.sub(r",\s*", ", ", q)
    q = re.sub(rf"\b{_WD},? (?=\d|{_MON})", "", q)  # "on Monday, 18 April 2005": the date decides
    rules: list[tuple[str, object]] = [
        (r"\btoday\b", lambda m: (as_of, as_of)),
        (r"\byesterday\b", lambda m: (as_of - timedelta(1), as_of - timedelta(1))),
        (r"\b(\d+) days ago\b", lambda m: (as_of - timedelta(int(m[1])),) * 2),
        (r"\bthis week\b", lambda m: (as_of - timedelta(as_of.weekday()), as_of)),
        (r"\blast week\b", lambda m: (as_of - timedelta(as_of.weekday() + 7), as_of - timedelta(as_of.weekday() + 1))),
        (r"\bpast (week|7 days)\b", lambda m: (as_of - timedelta(7), as_of)),
        (r"\bthis month\b", lambda m: (as_of.replace(day=1), as_of)),
        (r"\blast month\b", lambda m: _month_span(*((as_of.year, as_of.month - 1) if as_of.month > 1 else (as_of.year - 1, 12)))),
        (r"\bthis year\b", lambda m: (date(as_of.year, 1, 1), as_of)),
        (r"\blast year\b", lambda m: (date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31))),
        (rf"\b(?:since|after|from) {_POINT}", lambda m: _open(m, as_of, "since")),
        (rf"\b(?:before|until|till|up to) {_POINT}", lambda m: _open(m, as_of, "until")),
        (rf"\b(?:on|in|during|of) (?:the )?{_POINT}\b", lambda m: _point(m[1], as_of)),
        (rf"\b{_POINT}\b", lambda m: _point(m[1], as_of) if not re.fullmatch(r"(19|20)\d\d|" + _WD, m[1]) else None),
    ]
    for pattern, fn in rules:
        m = re.search(pattern, q)
        if not m:
            continue
        try:
            got = fn(m)  # type: ignore[operator]
        except (OverflowError, ValueError):  # date arithmetic past year 1 or 9999, or an absurdly long number
            raise _no_such_day(m.group(0), f"read against {as_of.isoformat()} it falls outside years 1 to 9999") \
                from None
        if got:
            since, until = got
            return Span(since, until, m.group(0))
    return None


def _open(m: re.Match[str], as_of: date, side: str) -> tuple[date | None, date | None] | None:
    p = _point(m[1], as_of)
    if p is None:
        return None
    if side == "since":  # up to as-of; a start after as-of leaves the end open rather than before the start
        return p[0], as_of if p[0] <= as_of else None
    return None, p[1] if m.group(0).startswith("until") else p[0] - timedelta(1)
