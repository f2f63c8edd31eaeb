"""Quiet hours and mute: until when a person's alerts and reminders wait (wall clock, DST)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.people.prefs import UserPrefs
from bot.people.quiet import held_until, quiet_end

BERLIN = "Europe/Berlin"


def at(month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).timestamp())


NIGHT = UserPrefs(quiet_start=dt.time(22, 0), quiet_end=dt.time(8, 0))


def test_a_window_over_midnight_holds_until_the_morning() -> None:
    assert held_until(at(11, 24, 23, 30), NIGHT, BERLIN) == at(11, 25, 8)
    assert held_until(at(11, 25, 7, 59), NIGHT, BERLIN) == at(11, 25, 8)
    assert held_until(at(11, 25, 8, 0), NIGHT, BERLIN) is None
    assert held_until(at(11, 24, 21, 59), NIGHT, BERLIN) is None


def test_a_window_within_a_day() -> None:
    lunch = dt.time(13, 0), dt.time(14, 0)
    assert quiet_end(at(11, 24, 13, 20), *lunch, BERLIN) == at(11, 24, 14)
    assert quiet_end(at(11, 24, 14, 0), *lunch, BERLIN) is None
    assert quiet_end(at(11, 24, 12, 0), *lunch, BERLIN) is None


def test_the_night_the_clocks_go_back_is_an_hour_longer() -> None:
    # 25 October 2026: 03:00 summer time becomes 02:00 winter time in Berlin.
    start = at(10, 24, 22)
    end = held_until(start, NIGHT, BERLIN)
    assert end == at(10, 25, 8)
    assert at(10, 25, 8) - start == 11 * 3600


def test_a_mute_that_ends_in_quiet_hours_holds_until_they_end() -> None:
    muted = NIGHT.model_copy(update={"muted_until": at(11, 24, 23)})
    assert held_until(at(11, 24, 20), muted, BERLIN) == at(11, 25, 8)
    # A mute over by now holds nothing; a mute alone holds until it ends.
    assert held_until(at(11, 25, 9), muted, BERLIN) is None
    alone = UserPrefs(muted_until=at(11, 24, 16))
    assert held_until(at(11, 24, 14), alone, BERLIN) == at(11, 24, 16)
