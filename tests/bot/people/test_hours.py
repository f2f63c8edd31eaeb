"""Working hours: the ``/hours`` grammar (and its round trip through the canonical text), and
until when a message that comes outside hours someone set waits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import load_catalogue
from bot.people import (
    DEFAULT_HOURS,
    HoursError,
    UserPrefs,
    WorkingHours,
    format_hours,
    parse_hours,
    within_hours,
)
from bot.people.quiet import held_until
from tests.properties import FUZZ

BERLIN = "Europe/Berlin"
T = load_catalogue()


def at(month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).timestamp())


@pytest.mark.parametrize(
    ("text", "start", "end", "days"),
    [
        ("10:00-19:00 mon-fri", dt.time(10), dt.time(19), {1, 2, 3, 4, 5}),
        ("9-18 пн-пт", dt.time(9), dt.time(18), {1, 2, 3, 4, 5}),
        ("10:00-16:30 sat,sun", dt.time(10), dt.time(16, 30), {6, 7}),
        ("8:00 - 17:00", dt.time(8), dt.time(17), {1, 2, 3, 4, 5}),
        ("07:00-15:00 fri-mon", dt.time(7), dt.time(15), {5, 6, 7, 1}),
        ("10-19 Mon,Wed-Thu", dt.time(10), dt.time(19), {1, 3, 4}),
    ],
)
def test_it_reads_hours_and_days(text: str, start: dt.time, end: dt.time, days: set[int]) -> None:
    assert parse_hours(text) == WorkingHours(start=start, end=end, days=frozenset(days))


MISTAKES = {
    "bad_hours": ("", "nine to five", "25:00-26:00", "10:00-19:00 mon-fri extra"),
    "hours_backwards": ("19:00-10:00", "10:00-10:00"),
    "bad_hours_days": ("10:00-19:00 monday", "10:00-19:00 mon-"),
}


@pytest.mark.parametrize(
    ("text", "code"), [(text, code) for code, texts in MISTAKES.items() for text in texts]
)
def test_bad_hours_say_what_is_wrong_in_both_languages(text: str, code: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours(text)
    assert caught.value.code == code
    for lang in ("ru", "en"):
        assert T(lang, code)
        assert T(lang, "usage_hours").startswith(("Например", "For example"))


def _hours(span: tuple[int, int], days: set[int]) -> WorkingHours:
    start, end = sorted(span)
    clock = [dt.time(m // 60, m % 60) for m in (start, end)]
    return WorkingHours(start=clock[0], end=clock[1], days=frozenset(days))


minute_of_day = st.integers(0, 24 * 60 - 1)
hours_values = st.builds(
    _hours,
    st.tuples(minute_of_day, minute_of_day).filter(lambda p: p[0] != p[1]),
    st.sets(st.integers(1, 7), min_size=1),
)


@FUZZ
@given(hours_values)
def test_the_canonical_text_reads_back_as_the_same_hours(hours: WorkingHours) -> None:
    assert parse_hours(format_hours(hours)) == hours


@FUZZ
@given(st.text(max_size=40))
def test_any_text_is_hours_or_a_known_mistake(text: str) -> None:
    try:
        hours = parse_hours(text)
    except HoursError as exc:
        code = exc.code
    else:
        code = "ok"
        assert hours.start < hours.end
        assert hours.days
    assert code in ("ok", "bad_hours", "bad_hours_days", "hours_backwards")


@FUZZ
@given(st.integers(at(1, 1, 0), at(12, 31, 0)), hours_values)
def test_the_next_working_moment_is_in_hours_and_never_earlier(
    now: int, hours: WorkingHours
) -> None:
    moment = within_hours(now, hours, "UTC")  # no DST gaps: the wall clock is exact
    assert now <= moment < now + 8 * 86400
    local = dt.datetime.fromtimestamp(moment, dt.UTC)
    assert local.isoweekday() in hours.days
    assert hours.start <= local.time().replace(second=0) < hours.end


def test_a_message_after_hours_someone_set_waits_for_the_next_working_start() -> None:
    friday_evening = at(11, 27, 20)
    assert held_until(friday_evening, UserPrefs(), BERLIN, DEFAULT_HOURS) == at(11, 30, 9)
    assert held_until(at(11, 30, 10), UserPrefs(), BERLIN, DEFAULT_HOURS) is None
    # Nobody set hours: nothing waits.
    assert held_until(friday_evening, UserPrefs(), BERLIN, None) is None


def test_a_mute_ending_after_hours_holds_on_until_the_morning() -> None:
    muted = UserPrefs(muted_until=at(11, 24, 18, 30))
    late = WorkingHours(start=dt.time(10), end=dt.time(18), days=DEFAULT_HOURS.days)
    assert held_until(at(11, 24, 17), muted, BERLIN, late) == at(11, 25, 10)
