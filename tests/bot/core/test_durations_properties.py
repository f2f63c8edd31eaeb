"""Property-based: a typed duration, time or moment is read or refused with ``ParseError`` (whose
code is a catalogue message in both languages), never another exception."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.durations import MAX_DURATION, ParseError, parse_clock, parse_duration, parse_moment
from tests.properties import FUZZ, UNICODE_DIGITS, numberish, read_or_explained, words

UNITS = ["m", "min", "h", "d", "w", "ч", "мин", "д", "нед", "x", ""]
durationish = st.one_of(
    words,
    st.lists(st.tuples(numberish, st.sampled_from(UNITS)).map("".join), max_size=4).map(" ".join),
    st.lists(st.sampled_from([*UNICODE_DIGITS, "1", "5", ":", "h", "m"]), max_size=8).map("".join),
)
DAYS = ["today", "tomorrow", "завтра", "fri", "пт", "mon", "someday", ""]
momentish = st.one_of(
    durationish,
    st.tuples(st.sampled_from(DAYS), durationish).map(" ".join),
    st.tuples(numberish, st.just(":"), numberish).map("".join),
)
ZONES = ["Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC"]


@FUZZ
@given(durationish)
def test_a_duration_is_positive_and_at_most_a_year_or_refused(text: str) -> None:
    duration = read_or_explained(lambda: parse_duration(text), ParseError)
    assert duration is None or timedelta(0) < duration <= MAX_DURATION


@FUZZ
@given(st.one_of(durationish, st.tuples(numberish, st.just(":"), numberish).map("".join)))
def test_a_clock_time_is_a_time_of_day_or_refused(text: str) -> None:
    read_or_explained(lambda: parse_clock(text), ParseError)


@FUZZ
@given(momentish, st.integers(min_value=0, max_value=4_000_000_000), st.sampled_from(ZONES))
def test_a_moment_is_in_the_future_or_refused(text: str, now: int, zone: str) -> None:
    moment = read_or_explained(lambda: parse_moment(text, now=now, timezone=zone), ParseError)
    assert moment is None or moment > now
