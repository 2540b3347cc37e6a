"""Dates a text mentions, resolved against the day it was published: what an article's "on Tuesday",
"last month" or "3 March" means as calendar dates.

News dates events relative to its own publication: an article of Saturday 5 May 2007 that says "on
Thursday" reports 3 May 2007; one of 4 August 2007 that says "last month" means July 2007. Ingest stores
these resolved dates with each chunk (so a question about the event finds a later report), and the
verifier compares a claim's dates with its evidence's through them.

Handled: today/tonight/this morning, yesterday/last night, tomorrow, "this day last year", weekdays ("on Tuesday": the most recent one on
or before publication; "next Tuesday": the next one), "N days/weeks ago", this/last/next week, month,
year, month names with or without day and year ("3 May", "May 3, 2007", "May 2007", "in May"), "last March"
(the latest March before the publication month), "next March" and "this March", ISO dates,
and four-digit years 1900-2099. A day or month without a year is placed in the year that puts it nearest
the publication date (a report of 2 January about "30 December" means the previous year).

Not handled: ranges ("between 3 and 5 May"), seasons, fiscal quarters, times of day; without a
publication date only explicit dates with a year resolve.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.calendar_names import MONTH_PATTERN, WEEKDAY_PATTERN
from rag.calendar_names import MONTHS as MONTHS  # re-exported: rag.verify.facts reads them here
from rag.calendar_names import WEEKDAYS as WEEKDAYS

_MON = rf"(?:{MONTH_PATTERN})\.?"
_WD = rf"(?:{WEEKDAY_PATTERN})"
_YEAR = r"(?:19|20)\d\d"
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "a": 1, "an": 1}

# One alternation, longest forms first; each named group tells which rule matched. Case-insensitive, but
# month names must be capitalised in the text (checked after matching), so "may" the verb is not a month.
_PATTERN = re.compile(
    rf"""\b(?:
      (?P<iso>(?P<iy>{_YEAR})-(?P<im>\d\d)-(?P<id>\d\d))
    | (?P<dmy>(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MON}),?(?:\s+(?P<y1>{_YEAR}))?)
    | (?P<mdy>(?P<m2>{_MON})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2>{_YEAR}))?)
    | (?P<my>(?P<m3>{_MON}),?\s+(?:of\s+)?(?P<y3>{_YEAR}))
    | (?P<anniv>this\s+day\s+(?:last|a|one)\s+year(?:\s+ago)?|(?:a|one)\s+year\s+ago\s+today)
    | (?P<rel>(?P<rw>last|next|this|past)\s+(?P<ru>week|month|year))
    | (?P<lm>(?P<lw>last|next|this)\s+(?P<m5>{_MON})(?!\s*,?\s*\d))
    | (?P<ago>(?P<an>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an)\s+(?P<au>days?|weeks?)\s+ago)
    | (?P<nwd>(?P<nw>next|last|this)\s+(?P<nwd_d>{_WD}))
    | (?P<wd>{_WD})
    | (?P<today>today|tonight|this\s+(?:morning|afternoon|evening))
    | (?P<yday>yesterday|last\s+night)
    | (?P<tmrw>tomorrow)
    | (?P<inm>(?:in|during|since|until|by|of|early|late|mid-?)\s+(?P<m4>{_MON})(?!\s*,?\s*(?:of\s+)?\d)
      | the\s+(?!may\b)(?P<m6>{_MON})(?=\s+[a-z]))  # not "the May government" (Theresa May's)
    | (?P<year>{_YEAR})
    )\b""",
    re.I | re.X,
)


@dataclass(frozen=True)
class Mention:
    """A date phrase of a text: `text[start:end]`, meaning the days `lo`..`hi` (inclusive)."""

    start: int
    end: int
    lo: date
    hi: date
    phrase: str

    def within(self, other: Mention) -> bool:
        """This mention's days all fall inside `other`'s (it is as or more specific)."""
        return other.lo <= self.lo and self.hi <= other.hi


def month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _month(word: str) -> int:
    w = word.lower().rstrip(".")
    return MONTHS[w[:4]] if w.startswith("sept") else MONTHS[w[:3]]


def _nearest(month: int, day: int | None, pub: date) -> tuple[date, date] | None:
    """The day (or whole month when day is None) in the year nearest the publication date."""
    best: tuple[date, date] | None = None
    for year in (pub.year - 1, pub.year, pub.year + 1):
        try:
            span = (date(year, month, day), date(year, month, day)) if day else month_span(year, month)
        except ValueError:
            continue
        dist = 0 if span[0] <= pub <= span[1] else min(abs((span[0] - pub).days), abs((span[1] - pub).days))
        if best is None or dist < best[2]:  # type: ignore[misc]
            best = (*span, dist)  # type: ignore[assignment]
    return (best[0], best[1]) if best else None


def _safe(fn: object, *args: object) -> tuple[date, date] | None:
    try:
        return fn(*args)  # type: ignore[operator, no-any-return]
    except (ValueError, OverflowError):  # an impossible date written in the text ("30 February")
        return None


def _resolve(m: re.Match[str], pub: date | None) -> tuple[date, date] | None:
    g = m.group
    if g("iso"):
        d = date(int(g("iy")), int(g("im")), int(g("id")))
        return d, d
    if g("dmy") or g("mdy"):
        day, mon, year = (g("d1"), g("m1"), g("y1")) if g("dmy") else (g("d2"), g("m2"), g("y2"))
        if not mon[:1].isupper():
            return None
        if year:
            d = date(int(year), _month(mon), int(day))
            return d, d
        return _nearest(_month(mon), int(day), pub) if pub else None
    if g("my"):
        return month_span(int(g("y3")), _month(g("m3"))) if g("m3")[:1].isupper() else None
    if g("year"):
        return date(int(g("year")), 1, 1), date(int(g("year")), 12, 31)
    if pub is None:
        return None
    if g("today"):
        return pub, pub
    if g("yday"):
        return pub - timedelta(1), pub - timedelta(1)
    if g("tmrw"):
        return pub + timedelta(1), pub + timedelta(1)
    if g("anniv"):  # "on this day last year": the same day a year before
        d = pub.replace(year=pub.year - 1) if (pub.month, pub.day) != (2, 29) else date(pub.year - 1, 2, 28)
        return d, d
    if g("ago"):
        n = int(g("an")) if g("an").isdigit() else _NUMBERS[g("an").lower()]
        d = pub - timedelta(days=n * (7 if g("au").lower().startswith("week") else 1))
        return (d, d) if g("au").lower().startswith("day") else (d - timedelta(3), d + timedelta(3))
    if g("rel"):
        which, unit = g("rw").lower(), g("ru").lower()
        step = {"last": -1, "past": -1, "this": 0, "next": 1}[which]
        if unit == "week":
            monday = pub - timedelta(pub.weekday()) + timedelta(weeks=step)
            return (pub - timedelta(7), pub) if which == "past" else (monday, monday + timedelta(6))
        if unit == "month":
            y, mo = divmod(pub.year * 12 + pub.month - 1 + step, 12)
            return month_span(y, mo + 1)
        return date(pub.year + step, 1, 1), date(pub.year + step, 12, 31)
    if g("lm"):  # "last March" in an article of July 2009 is March 2009; in one of March 2009, March 2008
        if not g("m5")[:1].isupper():
            return None
        month, which = _month(g("m5")), g("lw").lower()
        if which == "this":
            return month_span(pub.year, month)
        year = pub.year - (month >= pub.month) if which == "last" else pub.year + (month <= pub.month)
        return month_span(year, month)
    if g("nwd") or g("wd"):
        which = (g("nw") or "").lower()
        wd = WEEKDAYS[(g("nwd_d") or g("wd")).lower()]
        if which == "next":
            d = pub + timedelta(days=(wd - pub.weekday()) % 7 or 7)
        else:
            d = pub - timedelta(days=(pub.weekday() - wd) % 7)
        return d, d
    if g("inm"):  # "in March"; "the November elections", a month naming its event
        mon = g("m4") or g("m6")
        return _nearest(_month(mon), None, pub) if mon[:1].isupper() else None
    return None


# Words saying that what follows is to come ("will be held", "is to meet", "is scheduled for"; not "had been scheduled
# to be cut down on Tuesday", which was to come then), and where a sentence or a reported clause starts.
_FUTURE = re.compile(r"(?:\b(?:will|shall|won't|wo n't|upcoming)|'ll|\b(?:is|are)\s+(?:set\s+to|scheduled|due\s+to|to))\b", re.I)
_CLAUSE_START = re.compile(r"[.!?]\s|\b(?:said|says|told|announced|reported)\b")


def _to_come(text: str, m: re.Match[str]) -> bool:
    """A bare weekday or "this Tuesday" that a future word comes before, within 50 characters of the same sentence
    and reported clause ("It said on Monday the debate will be held this Tuesday": Tuesday, not Monday)."""
    weekday = m.group("wd") or (m.group("nwd") and m.group("nw").lower() == "this")
    return bool(weekday and _FUTURE.search(_CLAUSE_START.split(text[max(0, m.start() - 50) : m.start()])[-1]))


def mentions(text: str, published: str | date | None) -> list[Mention]:
    """Every date phrase of `text` with the days it means (module doc).

    >>> [(m.phrase, str(m.lo), str(m.hi)) for m in mentions("Troops left on Thursday, and last month 3 May.", "2007-05-05")]
    [('Thursday', '2007-05-03', '2007-05-03'), ('last month', '2007-04-01', '2007-04-30'), ('3 May', '2007-05-03', '2007-05-03')]
    >>> mentions("It may rain in 2006.", None)[0].phrase, len(mentions("They may go.", "2007-01-01"))
    ('2006', 0)
    >>> [(m.phrase, str(m.lo)) for m in mentions("On this day last year, bombs struck London.", "2006-07-07")]
    [('this day last year', '2005-07-07')]
    >>> [(m.phrase, str(m.lo)) for m in mentions("The sale begins on Monday, May 22.", "2006-05-21")]
    [('Monday, May 22', '2006-05-22')]
    >>> [(m.phrase, str(m.lo)) for m in mentions("It said on Monday the debate will be held this Tuesday.", "2007-10-29")]
    [('Monday', '2007-10-29'), ('this Tuesday', '2007-10-30')]
    """
    pub = published_day(published)
    out: list[Mention] = []
    for m in _PATTERN.finditer(text):
        span = _safe(_resolve, m, pub)
        if span is None:
            continue
        if pub and _to_come(text, m):  # "will be held this Tuesday": the coming one, not the one before
            day = pub + timedelta(days=(span[0].weekday() - pub.weekday()) % 7)
            span = (day, day)
        here = Mention(m.start(), m.end(), span[0], span[1], m.group(0))
        last = out[-1] if out else None
        if (last and here.lo == here.hi and re.search(r"\d", here.phrase) and last.phrase.split()[-1].lower() in WEEKDAYS
                and re.fullmatch(r",?\s*(?:the\s+)?", text[last.end:here.start])):
            # "on Monday, May 22": the date says which Monday (read from the day of publication alone, a
            # Sunday's "Monday" could be the one before)
            out[-1] = Mention(last.start, here.end, here.lo, here.hi, text[last.start:here.end])
            continue
        out.append(here)
    return out


_QUARTER = re.compile(rf"\b(?:(?:the\s+)?(?P<n>first|second|third|fourth|last|final|1st|2nd|3rd|4th)\s+quarter|"
                      rf"Q(?P<d>[1-4])),?\s+(?:of\s+)?(?P<y>{_YEAR})\b", re.I)
_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 4, "final": 4, "1st": 1, "2nd": 2, "3rd": 3,
             "4th": 4}


def quarters(text: str) -> list[Mention]:
    """Calendar quarters with their year ("the second quarter of 2009", "Q2 2009": April to June; "the last quarter
    of 2008"), not a company's fiscal ones. Read apart from `mentions`, which reads "the second quarter of 2009" as
    2009: the verifier compares a claim's dates with its evidence's through `mentions`, and an article's "last three
    months of 2012" is the claim's "fourth quarter of 2012" too.

    >>> [(m.phrase, str(m.lo), str(m.hi)) for m in quarters("GDP grew in the second quarter of 2009, not Q4 2008.")]
    [('the second quarter of 2009', '2009-04-01', '2009-06-30'), ('Q4 2008', '2008-10-01', '2008-12-31')]
    >>> quarters("Its fiscal second quarter of 2009 ended in March.")
    []
    """
    out = []
    for m in _QUARTER.finditer(text):
        if re.search(r"\bfiscal\s+(?:year\s+)?$", text[max(0, m.start() - 20) : m.start()], re.I):
            continue
        q, year = int(m.group("d")) if m.group("d") else _QUARTERS[m.group("n").lower()], int(m.group("y"))
        out.append(Mention(m.start(), m.end(), date(year, 3 * q - 2, 1), month_span(year, 3 * q)[1], m.group(0)))
    return out


def published_day(published: str | date | None) -> date | None:
    """The day an ISO date (or datetime) string names, or None when it names none."""
    if isinstance(published, date) or published is None:
        return published
    try:
        return date.fromisoformat(published[:10])
    except ValueError:
        return None


def event_days(text: str, published: str | date | None, widest: int = 31) -> list[tuple[date, date]]:
    """The day ranges a chunk's text places events on (mentions at most `widest` days wide: a month, not a
    year), merged and sorted; the publication day itself is not added."""
    spans = sorted({(m.lo, m.hi) for m in mentions(text, published) if (m.hi - m.lo).days < widest})
    merged: list[tuple[date, date]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + timedelta(1):
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _say(lo: date, hi: date) -> str:
    """A resolved span as words: '15 December 2009', 'July 2009', '2009', '7 to 13 December 2009'."""
    if lo == hi:
        return f"{lo.day} {calendar.month_name[lo.month]} {lo.year}"
    if (lo.day, hi.day) == (1, calendar.monthrange(hi.year, hi.month)[1]) and (lo.year, lo.month) == (hi.year, hi.month):
        return f"{calendar.month_name[lo.month]} {lo.year}"
    if (lo.month, lo.day, hi.month, hi.day) == (1, 1, 12, 31) and lo.year == hi.year:
        return str(lo.year)
    return f"{_say(lo, lo)} to {_say(hi, hi)}"


_MONTH_NAMES = "|".join(calendar.month_name[1:])
_SAID = rf"(?:\d{{1,2}} (?:{_MONTH_NAMES}) \d{{4}}|(?:{_MONTH_NAMES}) \d{{4}}|\d{{4}})"
_ECHO = re.compile(rf"\s*\({_SAID} to {_SAID}\)")


def unannotate(text: str) -> str:
    """`text` without the span `annotate` puts after a date phrase meaning several days, where a model's answer
    copied it from its prompt ("last week (17 November 2025 to 23 November 2025)"): read as two days, neither
    of which the evidence gives, it would sink a right answer. The phrase itself stays, checked as the article
    wrote it; a single day copied ("today (2 June 2006)") stays too, since the date check reads it right and
    a reader needs it.

    >>> unannotate("The plan came last week (17 November 2025 to 23 November 2025), and on Monday (24 November 2025).")
    'The plan came last week, and on Monday (24 November 2025).'
    >>> unannotate("It was founded in (1999) by two brothers (aged 20 and 22).")
    'It was founded in (1999) by two brothers (aged 20 and 22).'
    """
    out, at = [], 0
    for m in mentions(text, "2000-01-01"):  # any day: only where the phrases end matters
        echo = _ECHO.match(text, m.end)
        if echo and not re.search(_YEAR, m.phrase):
            out += [text[at : m.end]]
            at = echo.end()
    return "".join(out) + text[at:]


def annotate(text: str, published: str | date | None) -> str:
    """`text` with each date phrase that names no year followed by the dates it means, in parentheses: what
    a reader of the prompt needs to answer "on what date" from a report that says "on Tuesday".

    >>> annotate("Troops left on Thursday, and in May 2006; last month too.", "2007-05-05")
    'Troops left on Thursday (3 May 2007), and in May 2006; last month (April 2007) too.'
    """
    out, at = [], 0
    for m in mentions(text, published):
        if re.search(_YEAR, m.phrase) or m.hi < m.lo or (m.hi - m.lo).days > 366:
            continue
        out += [text[at : m.end], f" ({_say(m.lo, m.hi)})"]
        at = m.end
    return "".join(out) + text[at:]
