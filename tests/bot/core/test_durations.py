"""Durations and moments as managers type them, in English and Russian."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.durations import ParseError, parse_duration, parse_moment

MSK = "Europe/Moscow"


def at(text: str, zone: str = MSK) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp())


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("15m", 15),
        ("2h", 120),
        ("1h30m", 90),
        ("1d", 1440),
        ("2 ч", 120),
        ("30 мин", 30),
        ("45", 45),
        ("1w", 7 * 1440),
    ],
)
def test_it_reads_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "bad_duration"),
        ("0m", "bad_duration"),
        ("2x", "bad_duration"),
        ("h2", "bad_duration"),
        ("-5m", "bad_duration"),
        ("400d", "duration_too_long"),
    ],
)
def test_it_names_what_is_wrong_with_a_duration(text: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_duration(text)
    assert caught.value.code == code


def test_it_reads_moments_relative_to_now_in_the_users_timezone() -> None:
    now = at("2026-11-25 16:20")  # a Wednesday
    assert parse_moment("2h", now=now, timezone=MSK) == now + 7200
    assert parse_moment("18:00", now=now, timezone=MSK) == at("2026-11-25 18:00")
    assert parse_moment("9:00", now=now, timezone=MSK) == at("2026-11-26 09:00")
    assert parse_moment("tomorrow 09:00", now=now, timezone=MSK) == at("2026-11-26 09:00")
    assert parse_moment("завтра 9", now=now, timezone=MSK) == at("2026-11-26 09:00")
    assert parse_moment("fri 10:00", now=now, timezone=MSK) == at("2026-11-27 10:00")
    assert parse_moment("пятница 10:00", now=now, timezone=MSK) == at("2026-11-27 10:00")
    assert parse_moment("wed 10:00", now=now, timezone=MSK) == at("2026-12-02 10:00")


def test_tomorrow_nine_is_nine_on_the_wall_clock_across_a_dst_change() -> None:
    now = at("2026-10-24 20:00", "Europe/Berlin")  # summer time ends that night
    moment = parse_moment("tomorrow 09:00", now=now, timezone="Europe/Berlin")
    assert moment == at("2026-10-25 09:00", "Europe/Berlin")
    assert moment - now == 14 * 3600  # 13 wall-clock hours plus the hour given back


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("someday 10:00", "bad_moment"),
        ("fri 25:00", "bad_time"),
        ("today 08:00", "moment_in_past"),
        ("fri at 10", "bad_moment"),
        ("", "bad_moment"),
    ],
)
def test_it_names_what_is_wrong_with_a_moment(text: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_moment(text, now=at("2026-11-25 16:20"), timezone=MSK)
    assert caught.value.code == code
