"""Reports on a schedule: when each sending falls (the words: ``tests/bot/admin``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.alerts import ReportSchedule
from bot.alerts.scheduled import next_moment

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def local(moment: float, zone: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(moment, zone).strftime("%a %d.%m %H:%M")


def test_weekly_sendings_fall_on_the_day_and_time_after_the_given_moment() -> None:
    monday_nine = ReportSchedule()
    thursday = at(MOSCOW, 2026, 12, 3, 10, 0)
    first = next_moment(monday_nine, "Europe/Moscow", thursday)
    assert local(first, MOSCOW) == "Mon 07.12 09:00"
    # At the moment itself the next one is a week on: a sending is planned strictly after.
    assert local(next_moment(monday_nine, "Europe/Moscow", first), MOSCOW) == "Mon 14.12 09:00"
    assert next_moment(monday_nine, "Europe/Moscow", first - 1) == first
    friday = ReportSchedule(weekday=4, at="17:30")
    assert local(next_moment(friday, "Europe/Moscow", thursday), MOSCOW) == "Fri 04.12 17:30"


def test_daily_sendings_keep_their_wall_clock_time_across_a_dst_change() -> None:
    evening = ReportSchedule(every="daily", at="18:00")
    saturday = at(BERLIN, 2026, 3, 28, 18, 0)  # Europe moves its clocks on Sunday 29 March
    sunday = next_moment(evening, "Europe/Berlin", saturday)
    assert local(sunday, BERLIN) == "Sun 29.03 18:00"
    assert sunday - saturday == 23 * 3600  # a 23-hour day, still 18:00 on the wall
    assert local(next_moment(evening, "Europe/Berlin", sunday), BERLIN) == "Mon 30.03 18:00"
