"""Derived answers: a difference, a sum, a ratio, the days between two events, which of two is larger or earlier.

The model is not trusted with arithmetic. For a question that asks for one of these (`operation`), the
model is asked to state each input with its own passage number (prompts/answer_derived.md); the inputs are
verified like any answer sentence; then code computes the result from the verified sentences' numbers
(or their dates, resolved against each article's publication day) and adds one sentence that shows the
inputs and the arithmetic, cited to every input's evidence.

Figures in two units of one dimension ("8.3 kg" and "396 grams") are converted to the smaller unit first
(rag/answering/units.toml); figures in units of different dimensions are not combined. In a difference, a figure
the answer or its cited evidence gives as a fall ("contracted by 3.8%": rag/answering/falls.toml) is negative.

Not handled: more than two inputs; mixed units ("5%" and "$3m"), which are shown but not combined;
currencies converted into one another.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.chunk import sentences
from rag.textdates import mentions
from rag.types import Citation
from rag.verify import Verified
from rag.verify.checks import _unit
from rag.verify.facts import Number, numbers

_OPS = [
    ("days", re.compile(r"\bhow many (days|weeks|months|years)\b.*\b(between|after|before|passed|elapsed|separat|apart)|"
                        r"\bhow long (after|before|between)\b", re.I)),
    ("ratio", re.compile(r"\bhow many times\b|\btimes as (many|much|large|big|high|long)\b", re.I)),  # not "the
    # debt-to-GDP ratio", a figure an article states
    ("difference", re.compile(r"\b(difference|how (much|many)\b[^?]*\b(more|less|fewer|higher|lower|larger|smaller|"
                              r"bigger|greater|older|younger|taller|heavier|lighter|longer|shorter|cheaper|dearer)|"
                              r"by how (much|many)|gap between)\b", re.I)),
    ("sum", re.compile(r"\b(combined|in total|total|sum|together|altogether|in all)\b", re.I)),
    ("compare", re.compile(r"\bwhich\b.*\b(larger|bigger|higher|greater|more|smaller|lower|less|fewer|earlier|"
                           r"later|first|longer|shorter)\b", re.I)),
]


# which of two a comparison asks for: the larger or smaller figure, the earlier or later date
_WHICH = re.compile(r"\b(?:which|who|whose|what)\b", re.I)
_DIRECTION = re.compile(
    r"\b(?P<latest>more recent|most recent|later|latest|last|newer|newest)\b|"
    r"\b(?P<earliest>earlier|earliest|first|sooner|soonest)\b|"
    r"\b(?P<smallest>smaller|smallest|lower|lowest|less|least|fewer|fewest|shorter|shortest|cheaper|cheapest)\b|"
    r"\b(?P<largest>larger|largest|bigger|biggest|higher|highest|greater|greatest|more|most|longer|longest|"
    r"heavier|costlier|deadlier|deadliest)\b", re.I)
_STEM = re.compile(r"\s*(?:[,:;]|\s-+)\s*[^,;:]+\bor\b[^,;:]+$")  # the options at the end: ", A or B?"


def comparison(question: str) -> str | None:
    """What a "which of two" question asks for: 'largest', 'smallest', 'earliest' or 'latest', from the first
    comparative word before its options; None otherwise.

    >>> comparison("Which storm killed more people, Haiyan or Bopha?"), comparison("Who came first, A or B?")
    ('largest', 'earliest')
    >>> comparison("Which firm had more staff before the merger, A or B?")
    'largest'
    """
    if not _WHICH.search(question):
        return None
    stem = _STEM.split(question, maxsplit=1)[0]
    m = _DIRECTION.search(stem)
    return m.lastgroup if m else None


def operation(question: str) -> str | None:
    """The derivation a question asks for, or None.

    >>> operation("What was the combined value of the two deals?"), operation("Who won?")
    ('sum', None)
    >>> operation("How many days passed between the vote and the resignation?")
    'days'
    >>> operation("How many weeks apart were the two launches?"), operation("How many years older was Ames than Bell?")
    ('days', 'difference')
    >>> operation("How many times as many people did the first leak affect as the second?")
    'ratio'
    """
    for name, pattern in _OPS:
        if pattern.search(question):
            return name
    return None


@dataclass
class _Input:
    number: Number | None
    day: str | None  # ISO day of a dated input
    sentence: str
    citation: Citation
    year: int | None = None  # the year of a date within one year ("in 2010", "in March 2010")
    month: int | None = None  # and its month, when within one month
    unit: str = ""  # the noun after the number ("kg", "gram", "people"), "" if none
    sign: int = 1  # -1 for a fall ("shrank 3.8%"), in the answer or in the evidence it cites (`_sign`)


@cache
def _units() -> dict[str, tuple[str, float]]:
    """rag/answering/units.toml: a unit word -> (its dimension, its size in the dimension's base unit)."""
    data = tomllib.loads((Path(__file__).parent / "units.toml").read_text(encoding="utf-8"))
    return {word: (dim, float(size)) for dim, table in data.items() for word, size in table.items()}


@cache
def _falls() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """rag/answering/falls.toml as two patterns: a word of falling just before a figure, a noun of falling after."""
    data = tomllib.loads((Path(__file__).parent / "falls.toml").read_text(encoding="utf-8"))
    words = "|".join(map(re.escape, data["before"]))
    nouns = "|".join(map(re.escape, data["after"]))
    return (re.compile(rf"\b(?:{words})\s+(?:by\s+)?(?:(?:an?|about|around|almost|nearly|roughly|some|approximately)\s+)?$", re.I),
            re.compile(rf"^\s*(?:{nouns})\b", re.I))


def _sign(number: Number, sentence: str, evidence: str) -> int:
    """-1 when the figure is a fall ("shrank 3.8%", "a 3.8% contraction"; rag/answering/falls.toml) in the answer's
    sentence or, where the answer writes it as a bare level ("GDP was 3.8%"), in the evidence it cites.

    >>> n = numbers("GDP in the first quarter was 3.8%.")[0]
    >>> _sign(n, "GDP in the first quarter was 3.8%.", "The economy shrank by 3.8% in the first quarter."), _sign(n, "It was 3.8%.", "It rose 3.8%.")
    (-1, 1)
    """
    before, after = _falls()
    for text in (sentence, evidence):
        for n in numbers(text):
            if n.key() == number.key() and (before.search(text[max(0, n.at - 40) : n.at])
                                            or after.match(text[n.at + len(n.text) :])):
                return -1
    return 1


def _unit_word(i: _Input) -> str:
    """The word after the input's figure as the sentence writes it ("grams" of "396 grams"), "" if none."""
    assert i.number is not None
    m = re.match(r"[\s-]*([A-Za-z]+)", i.sentence[i.number.at + len(i.number.text):])
    return m.group(1) if m else ""


def _written(i: _Input) -> str:
    """The input's figure with its unit as the sentence writes it: "396 grams"."""
    assert i.number is not None
    return f"{i.number.text} {_unit_word(i)}".strip()


def _in_one_unit(a: _Input, b: _Input) -> tuple[float, float, str] | None:
    """The two inputs' values in one unit, and that unit's word ("" when neither has a unit of rag/answering/units.toml):
    "8.3 kg" and "396 grams" -> (8300, 396, "grams"); None when their units cannot be combined (kg and km, or
    kg and a count)."""
    assert a.number is not None and b.number is not None
    units = _units()
    ua, ub = units.get(a.unit), units.get(b.unit)
    if ua is None and ub is None:
        return a.number.value, b.number.value, ""
    if ua is None or ub is None or ua[0] != ub[0]:
        return None
    size = min(ua[1], ub[1])  # the smaller unit, named as its input writes it ("grams", "feet", "km")
    return a.number.value * ua[1] / size, b.number.value * ub[1] / size, _unit_word(a if ua[1] <= ub[1] else b)


def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) < 1e6 else _magnitude(x)


def _magnitude(x: float) -> str:
    for word, size in (("trillion", 1e12), ("billion", 1e9), ("million", 1e6)):
        if abs(x) >= size:
            return f"{x / size:,.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{x:,.0f}"


def _pick(nums: list[Number], text: str, question: str) -> Number | None:
    """The number the question asks about: the first whose next few words share most with the question
    ("US$44 billion or about US$31 per share", asked "by how much per share": 31)."""
    asked = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", question)}

    def near(n: Number) -> int:
        after = re.split(r"[,;.()]", text[n.at + len(n.text):], maxsplit=1)[0]  # its own phrase: "per share"
        return len({w.lower() for w in re.findall(r"[A-Za-z]{3,}", after)[:3]} & asked)
    return max(nums, key=lambda n: (near(n), -n.at)) if nums else None


def _inputs(checked: Verified, question: str = "") -> list[_Input]:
    by_n = {c.n: c for c in checked.citations}
    given = {n.key() for n in numbers(question)}  # "the three banks" of the question is not an input
    out = []
    text = checked.answer.strip()
    for sentence in (text[a:b] for a, b in sentences(text)):  # "at 12:00 p.m. ET after ..." is one sentence
        ns = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        if not ns or ns[0] not in by_n:
            continue
        c = by_n[ns[0]]
        plain = re.sub(r"\s*\[\d+\]", "", sentence)
        dated = mentions(plain, c.date) or mentions(c.text, c.date)
        skip = [(m.start, m.end) for m in mentions(plain, c.date)]
        found = numbers(plain, skip)
        nums = [n for n in found if n.key() not in given] or found
        # the most precise date it gives: "the 2007 election took place on November 24, 2007" is dated by the day
        first = min(dated, key=lambda m: (m.hi - m.lo).days) if dated else None
        day = first.lo.isoformat() if first and first.lo == first.hi else None
        year = first.lo.year if first and first.lo.year == first.hi.year else None
        month = first.lo.month if first and year and first.lo.month == first.hi.month else None
        picked = _pick(nums, plain, question)
        out.append(_Input(picked, day, plain, c, year, month, _unit(picked, plain) if picked else "",
                          _sign(picked, plain, c.text) if picked else 1))
    return out


def derive(question: str, checked: Verified) -> str | None:
    """The computed sentence for the question's operation from the verified answer, with the input
    citations' markers; None when the operation or two usable inputs are missing."""
    op = operation(question)
    if op is None:
        return None
    ins = _inputs(checked, question)
    if len({i.citation.n for i in ins}) < 2:
        return None
    a, b = ins[0], next(i for i in ins[1:] if i.citation.n != ins[0].citation.n)
    if (a.citation.article_id == b.citation.article_id and a.number and b.number
            and a.number.key() == b.number.key() and op in ("sum", "difference")):
        return None  # one article's figure said twice is one input, not two ("61 billion plus 61 billion")
    marks = f"[{a.citation.n}][{b.citation.n}]"
    if op == "days":
        return _elapsed(question, a, b, marks)
    if op == "compare":
        return _compare(question, a, b, marks)
    if a.number is None or b.number is None or a.number.percent != b.number.percent:
        return None
    converted = _in_one_unit(a, b)
    if converted is None:
        return None  # "8.3 kg" and "4 km": nothing to compute
    x, y, word = converted
    unit = " percentage points" if a.number.percent else f" {word}" if word else ""
    shown = (_written(a) if word else a.number.text, _written(b) if word else b.number.text)
    if op == "difference":  # a fall and a rise are on two sides of zero: "shrank 3.8%", "grew 0.3%" are 4.1 apart
        signed = [f"-{t}" if i.sign < 0 else t for t, i in zip(shown, (a, b), strict=True)]
        return f"The difference is {_fmt(abs(x * a.sign - y * b.sign))}{unit} ({signed[0]} and {signed[1]}, computed) {marks}."
    if op == "sum":
        total = f"{_fmt(x + y)}%" if a.number.percent else _fmt(x + y) + unit
        return f"Together that is {total} ({shown[0]} plus {shown[1]}, computed) {marks}."
    if op == "ratio" and min(abs(x), abs(y)) > 0:
        (big, bs), (small, ss) = sorted(((x, shown[0]), (y, shown[1])), key=lambda v: -abs(v[0]))
        return f"That is {_fmt(round(abs(big / small), 2))} times as much ({bs} against {ss}, computed) {marks}."
    return None


_UNIT = re.compile(r"\bhow many (weeks|months|years)\b", re.I)


def span_unit(question: str) -> str:
    """The unit a time-span question asks in: "weeks", "months", "years", else "days".

    >>> span_unit("How many years after the merger did he leave?"), span_unit("How long after the vote did he go?")
    ('years', 'days')
    """
    return m.group(1).lower() if (m := _UNIT.search(question)) else "days"


def _elapsed(question: str, a: _Input, b: _Input, marks: str) -> str | None:
    """The time between two dated inputs in the unit asked: days (and weeks) from two days, months from two
    months, years from two years; None when the inputs are not that precise."""
    from datetime import date

    unit = span_unit(question)
    if unit in ("days", "weeks") and a.day and b.day:
        d = abs((date.fromisoformat(b.day) - date.fromisoformat(a.day)).days)
        weeks = f"{_fmt(d / 7)} weeks, " if unit == "weeks" else ""
        return f"That is {weeks}{d} days between {a.day} and {b.day} (computed) {marks}."
    if unit == "months" and a.year and b.year and a.month and b.month:
        n = abs((b.year - a.year) * 12 + b.month - a.month)
        return f"That is {n} months between {a.year}-{a.month:02d} and {b.year}-{b.month:02d} (computed) {marks}."
    if unit == "years" and a.year and b.year:
        return f"That is {abs(b.year - a.year)} years between {a.year} and {b.year} (computed) {marks}."
    return None


def _compare(question: str, a: _Input, b: _Input, marks: str) -> str | None:
    if a.day and b.day and re.search(r"\b(earlier|later|first)\b", question, re.I):
        first, second = (a, b) if a.day <= b.day else (b, a)
        return f"The earlier is {first.day}, before {second.day} (compared) {marks}."
    if a.number is None or b.number is None or a.number.percent != b.number.percent:
        return None
    bigger, smaller = (a, b) if a.number.value >= b.number.value else (b, a)
    return (f"The larger figure is {bigger.number.text} against {smaller.number.text} "  # type: ignore[union-attr]
            f"(compared) {marks}.")


def compare(question: str, pair: tuple[str, str], answers: list[Verified]) -> str | None:
    """The sentence naming which option wins a comparison (`comparison`), from each option's verified answer
    (its first figure, or its first dated day for earliest/latest), cited to each input; None when an
    input lacks what is compared or the figures are in different units."""
    how = comparison(question)
    if how is None or len(answers) != 2:
        return None
    ins = [next((i for i in _inputs(v, question) if (i.day if how in ("earliest", "latest") else i.number)), None)
           for v in answers]
    a, b = ins
    if a is None or b is None:
        return None
    name = [_option(x) for x in pair]
    marks = [f"[{a.citation.n}]", f"[{b.citation.n}]"]
    if how in ("earliest", "latest"):
        assert a.day and b.day
        if a.day == b.day:
            return f"Both are dated {a.day} (compared) {marks[0]}{marks[1]}."
        first = 0 if (a.day < b.day) == (how == "earliest") else 1
        word = "earlier" if how == "earliest" else "later"
        days = (a.day, b.day)
        return (f"{name[first]} came {word}: {days[first]} against {days[1 - first]} (compared) "
                f"{marks[first]}{marks[1 - first]}.")
    assert a.number and b.number
    if a.number.percent != b.number.percent or (converted := _in_one_unit(a, b)) is None:
        return None
    xv, yv, word_unit = converted  # "8.3 kg" against "396 grams": 8,300 and 396 grams
    if xv == yv:
        return f"Both figures are {a.number.text} (compared) {marks[0]}{marks[1]}."
    win = 0 if (xv > yv) == (how == "largest") else 1
    word = "larger" if how == "largest" else "smaller"
    texts = (_written(a), _written(b)) if word_unit else (a.number.text, b.number.text)
    unit = "%" if a.number.percent else f" {word_unit}" if word_unit else ""
    margin = (f", a difference of {_fmt(abs(xv - yv))}{unit}"  # "..., and by how much?"
              if re.search(r"\bby how (much|many)\b", question, re.I) else "")
    return (f"{name[win]} has the {word} figure: {texts[win]} against {texts[1 - win]}{margin} (compared) "
            f"{marks[win]}{marks[1 - win]}.")


def _option(text: str) -> str:
    return text[:1].upper() + text[1:]
