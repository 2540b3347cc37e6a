"""Dates in questions (rag.answering.timeframe): what resolves, what is refused with one clear error, and a fuzz of
the date grammar itself -- phrases built from its parts, including impossible days, huge offsets, year 0,
mixed formats and weekday+date combinations -- that must give a Span, None or a RagError, nothing else."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rag.answering.timeframe import Span, resolve
from rag.cli import app
from rag.config import Settings
from rag.errors import InputError, RagError

AS_OF = date(2025, 11, 27)


@pytest.mark.parametrize(("question", "since", "until"), [
    ("What happened on 2025-02-28?", "2025-02-28", "2025-02-28"),
    ("What happened on 29 February 2024?", "2024-02-29", "2024-02-29"),
    ("What happened on February 29?", "2024-02-29", "2024-02-29"),
    ("What happened on Monday, 24 November 2025?", "2025-11-24", "2025-11-24"),
    ("What happened in March 2005?", "2005-03-01", "2005-03-31"),
    ("What happened 3 days ago?", "2025-11-24", "2025-11-24"),
])
def test_real_dates_resolve(question: str, since: str, until: str) -> None:
    span = resolve(question, AS_OF)
    assert span is not None and span.iso() == (since, until)


@pytest.mark.parametrize(("question", "named", "why"), [
    ("What happened on 2025-02-30?", "2025-02-30", "February 2025 has 28 days"),
    ("What happened on 2025-13-01?", "2025-13-01", "no month 13"),
    ("What happened on 30 February 2025?", "30 february 2025", "February 2025 has 28 days"),
    ("What happened on February 30?", "february 30", "February never has 30 days"),
    ("What happened in march 0000?", "march 0000", "year 0"),
    ("What happened 1000000 days ago?", "1000000 days ago", "outside years 1 to 9999"),
    ("What happened 99999999999999999999999 days ago?", "days ago", "outside years 1 to 9999"),
])
def test_impossible_dates_are_one_clear_input_error(question: str, named: str, why: str) -> None:
    with pytest.raises(InputError) as e:
        resolve(question, AS_OF)
    msg = str(e.value)
    assert named in msg and why in msg and "\n" not in msg


def test_a_day_number_no_month_has_is_not_a_date() -> None:
    assert resolve("How many of the 40 may vote?", AS_OF) is None


@pytest.mark.parametrize("question", ["What happened on 2025-02-30?", "What happened 1000000 days ago?",
                                      "What happened in march 0000?"])
def test_cli_ask_with_an_impossible_date_is_one_error_line(question: str, seed_settings: Settings) -> None:
    r = CliRunner().invoke(app, ["ask", question, "--index", str(seed_settings.index_dir)])
    assert r.exit_code == 1, r.output
    assert isinstance(r.exception, SystemExit)  # not a traceback
    assert r.stderr.startswith("error: the question names ") and len(r.stderr.strip().splitlines()) == 1


# ---- fuzz: phrases built from the grammar's own parts ---------------------------------------------------
MONTH_WORDS = ["january", "feb", "february", "mar", "march", "sept", "september", "may", "june", "jun", "dec"]
WEEKDAY_WORDS = ["monday", "tuesday", "sunday"]
PREFIXES = ["", "on ", "in ", "since ", "after ", "from ", "before ", "until ", "till ", "up to ", "during ",
            "of the ", "on the "]
numbers = st.one_of(st.integers(0, 40), st.integers(0, 10_000), st.integers(0, 10**30))
years = st.one_of(st.integers(0, 99), st.integers(1900, 2100), st.integers(0, 9999), st.integers(10_000, 99_999))
suffix = st.sampled_from(["", "st", "nd", "rd", "th"])
month = st.sampled_from(MONTH_WORDS).map(lambda m: m.capitalize() if len(m) % 2 else m.upper())
weekday = st.sampled_from(WEEKDAY_WORDS)


def _iso(y: int, m: int, d: int, sep: str) -> str:
    return f"{y:04d}{sep}{m:02d}{sep}{d:02d}"


point = st.one_of(
    st.builds(_iso, years, st.integers(0, 99), st.integers(0, 99), st.sampled_from(["-", "-", "/"])),
    st.builds(lambda d, s, of, m, comma, y: f"{d}{s} {of}{m}{comma}{y}", numbers, suffix,
              st.sampled_from(["", "of "]), month, st.sampled_from(["", ",", ", "]),
              st.one_of(st.just(""), years.map(lambda y: f" {y:04d}"))),
    st.builds(lambda m, d, s, y: f"{m} {d}{s}{y}", month, numbers, suffix,
              st.one_of(st.just(""), years.map(lambda y: f", {y:04d}"), years.map(lambda y: f" {y}"))),
    st.builds(lambda m, comma, y: f"{m}{comma} {y:04d}", month, st.sampled_from(["", ","]), years),
    years.map(str),
    weekday,
    st.builds(lambda w, p: f"{w}, {p}", weekday, st.builds(lambda d, m: f"{d} {m}", numbers, month)),
    st.builds(lambda w, m, d: f"{w} {m} {d}", weekday, month, numbers),
)
relative = st.one_of(
    numbers.map(lambda n: f"{n} days ago"),
    st.sampled_from(["today", "yesterday", "this week", "last week", "past week", "past 7 days", "this month",
                     "last month", "this year", "last year"]),
)
phrase = st.one_of(st.builds(lambda p, x: p + x, st.sampled_from(PREFIXES), point), relative)
question = st.builds(lambda a, b, glue: f"What happened {a}{glue}{b}?", phrase,
                     st.one_of(st.just(""), phrase), st.sampled_from(["", " and ", ", ", " or ", " to "]))
as_of = st.one_of(st.dates(), st.sampled_from([date.min, date.max, date(1, 1, 7), date(9999, 12, 25)]),
                  st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question, as_of)
def test_date_grammar_fuzz_gives_a_span_none_or_a_rag_error(q: str, ref: date) -> None:
    try:
        span = resolve(q, ref)
    except RagError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert span is None or isinstance(span, Span)
    if span is not None:
        for d in (span.since, span.until):
            assert d is None or isinstance(d, date)
        if span.since and span.until:
            assert span.since <= span.until
