"""English month and weekday names: one table for every date reader (rag.answering.timeframe for questions,
rag.textdates for dates an article mentions, rag.ingest.dates for publication dates, rag.cite), built from
the standard library's `calendar` (Python's default C locale) instead of a list typed out in each.

>>> MONTHS["sept"], MONTHS["nov"], WEEKDAYS["monday"], WEEKDAY_ABBREVIATIONS["thurs"]
(9, 11, 0, 3)
"""

from __future__ import annotations

import calendar

# full names and three-letter abbreviations -> 1..12; "sept" as newspapers write it
MONTHS: dict[str, int] = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
# full names -> 0..6 (Monday 0)
WEEKDAYS: dict[str, int] = {d.lower(): i for i, d in enumerate(calendar.day_name)}
# what datelines abbreviate ("Tues., Nov. 25"); apart from WEEKDAYS: "sun", "sat" and "wed" are also words
WEEKDAY_ABBREVIATIONS: dict[str, int] = {d.lower(): i for i, d in enumerate(calendar.day_abbr)}
WEEKDAY_ABBREVIATIONS.update({"tues": 1, "thur": 3, "thurs": 3})
# regex alternations (no group) of the month names, abbreviations included, and of the weekday names
MONTH_PATTERN = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
                 r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
WEEKDAY_PATTERN = "|".join(WEEKDAYS)
