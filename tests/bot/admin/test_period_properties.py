"""The period of ``/report``, ``/export`` and ``amobridge export --period`` (one parser):
every whole number of days from 1 to 366 in any unit reads as itself, anything else is refused
(None, never an exception), and ``/export`` takes its format and sheet words after it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.admin import GrammarError, parse_admin, parse_period
from bot.admin.grammar import MAX_REPORT_DAYS, ExportActivity
from tests.properties import FUZZ, numberish

days = st.integers(min_value=1, max_value=MAX_REPORT_DAYS)


@FUZZ
@given(days, st.sampled_from(["d", "D"]))
def test_whole_days_read_as_themselves(n: int, unit: str) -> None:
    assert parse_period(f"{n}{unit}") == n


@FUZZ
@given(days)
def test_the_same_span_in_hours_or_weeks_reads_the_same(n: int) -> None:
    assert parse_period(f"{n * 24}h") == n
    if n % 7 == 0:
        assert parse_period(f"{n // 7}w") == n


@FUZZ
@given(st.integers(min_value=-(10**6), max_value=10**6).filter(lambda n: not 1 <= n <= 366))
def test_days_out_of_range_are_refused(n: int) -> None:
    assert parse_period(f"{n}d") is None


@FUZZ
@given(st.one_of(numberish, st.text(max_size=30), numberish.map(lambda s: s + "d")))
def test_any_text_is_a_period_in_range_or_refused(text: str) -> None:
    got = parse_period(text)
    assert got is None or 1 <= got <= MAX_REPORT_DAYS


@pytest.mark.parametrize(
    ("word", "expected"),
    [("week", 7), ("Неделя", 7), ("MONTH", 30), ("месяц", 30), ("year", 365), ("36h", None),
     ("1.5d", None), ("", None)],
)  # fmt: skip
def test_words_and_fractions(word: str, expected: int | None) -> None:
    assert parse_period(word) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", ExportActivity()),
        ("month csv", ExportActivity(days=30, fmt="csv")),
        ("csv log", ExportActivity(fmt="csv", sheet="log")),
        (
            '14d csv people "Sales A"',
            ExportActivity(days=14, fmt="csv", sheet="people", group="Sales A"),
        ),
        ("месяц csv журнал", ExportActivity(days=30, fmt="csv", sheet="log")),
        ("week xlsx Sales", ExportActivity(group="Sales")),
        ("week log", ExportActivity(group="log")),  # a sheet word only after csv
    ],
)
def test_export_takes_a_format_and_a_sheet_after_the_period(
    args: str, expected: ExportActivity
) -> None:
    assert parse_admin("export", args) == expected


def test_a_bad_period_names_the_word_and_shows_an_example() -> None:
    with pytest.raises(GrammarError) as caught:
        parse_admin("export", "400d csv")
    assert caught.value.usage == "usage_export"
