"""Date inference: metadata > text > none; sound inference only (see rag.ingest.dates)."""

from __future__ import annotations

from datetime import date

import pytest

from rag.ingest.dates import infer_date, parse_metadata_date, weekday_date

from .conftest import SEEDS


def test_seed_gets_2025_11_24_counting_back_from_today() -> None:
    text = (SEEDS / "000_aeafaadd1786d078.txt").read_text()
    assert infer_date(text, today=date(2026, 11, 27)) == "2025-11-24"
    assert infer_date(text, today=date(2025, 11, 24)) == "2025-11-24"  # the day itself counts
    # before 24 Nov 2025 the most recent Monday 24 November was in 2014
    assert infer_date(text, today=date(2025, 11, 23)) == "2014-11-24"
    assert infer_date(text) == "2025-11-24"  # the real today (2026 or later, until 2031)


@pytest.mark.parametrize(("text", "want"), [
    ("GENEVA, November 24, 2025 (Wire) - Talks resumed.", "2025-11-24"),
    ("Published 24 November 2025. Talks resumed.", "2025-11-24"),
    ("Monday, Nov. 24, 2025 -- Talks resumed.", "2025-11-24"),
    ("2025-11-24: Talks resumed in Geneva.", "2025-11-24"),
    ("Officials met on Friday, the 5th of January to sign.", "2024-01-05"),
    ("The vote was held on Tuesday 4 March.", "2025-03-04"),
])
def test_explicit_and_weekday_dates(text: str, want: str) -> None:
    assert infer_date(text, today=date(2026, 11, 27)) == want


@pytest.mark.parametrize("text", [
    "The talks on November 24 went well.",  # no weekday, no year: which year? unknown
    "Talks resumed yesterday.",
    "On Monday, February 30, nothing happened.",  # no such day
    "A body of text with no date at all.",
    "x" * 700 + " November 24, 2025 appears only deep in the body.",  # not in the dateline zone
    "It will happen on 24 November 2999.",  # in the future of the reference day
])
def test_unsound_or_absent_dates_stay_unknown(text: str) -> None:
    assert infer_date(text, today=date(2026, 11, 27)) is None


def test_weekday_date_is_on_or_before_today() -> None:
    d = weekday_date(11, 24, 0, date(2026, 11, 27))
    assert d == date(2025, 11, 24) and d.weekday() == 0
    # no Sunday 29 February in the last 11 years (2004 is too far back to be a sound guess)
    assert weekday_date(2, 29, 6, date(2026, 1, 1)) is None
    assert weekday_date(2, 29, 3, date(2026, 1, 1)) == date(2024, 2, 29)


@pytest.mark.parametrize(("value", "want"), [
    ("2025-11-24", "2025-11-24"), ("2025-11-24T23:59:00-05:00", "2025-11-24"), ("Mon, 24 Nov 2025 10:00:00 GMT",
    "2025-11-24"), ("November 24, 2025", "2025-11-24"), (date(2025, 11, 24), "2025-11-24"), ("2025-13-45", None),
    ("soon", None), ("", None), (None, None), (20251124, None), ("0001-01-01", None),
])
def test_metadata_dates(value: object, want: str | None) -> None:
    assert parse_metadata_date(value) == want
