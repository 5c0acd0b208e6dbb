"""Shared value conversions: precision kept, nothing guessed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.model.values import parse_age, parse_bool, parse_int, parse_partial_date


@pytest.mark.parametrize(
    ("text", "value", "precision"),
    [
        ("2024-05-27", "2024-05-27", "day"),
        ("2024-05", "2024-05", "month"),
        ("2024", "2024", "year"),
        ("January 2026", "2026-01", "month"),
        ("May 27, 2024", "2024-05-27", "day"),
        ("Sept 3, 2019", "2019-09-03", "day"),
        ("27 May 2024", "2024-05-27", "day"),
    ],
)
def test_dates_keep_their_precision(text: str, value: str, precision: str) -> None:
    date = parse_partial_date(text)
    assert date is not None and date.value == value and date.precision.value == precision
    assert date.type is None, "ACTUAL/ESTIMATED is never inferred"


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13", "Smarch 2024", "soon", "", "05/27/2024"])
def test_unreadable_dates_are_not_guessed(text: str) -> None:
    assert parse_partial_date(text) is None


def test_date_type_is_kept_when_stated() -> None:
    date = parse_partial_date("January 2026", "ESTIMATED")
    assert date is not None and date.type == "ESTIMATED" and date.text == "January 2026"


def test_ages() -> None:
    age = parse_age("18 Years")
    assert age is not None and (age.value, age.unit, age.text) == (18, "YEARS", "18 Years")
    assert parse_age("6 Months") is not None
    assert parse_age("N/A") is None and parse_age("18") is None and parse_age("No limit") is None


def test_ints_and_bools() -> None:
    assert parse_int("1,200") == 1200 and parse_int("-3") is None and parse_int("20 patients") is None
    assert parse_bool("Yes") is True and parse_bool("No") is False and parse_bool("maybe") is None


@given(st.text(max_size=200))
def test_parsers_never_raise(text: str) -> None:
    parse_partial_date(text)
    parse_age(text)
    parse_int(text)
    parse_bool(text)
