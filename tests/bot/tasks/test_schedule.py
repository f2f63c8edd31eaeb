"""Reminder times: lead times, due, overdue repeats in working hours, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.people import WorkingHours
from bot.tasks.schedule import (
    ReminderKind,
    ReminderPolicy,
    is_all_day,
    next_reminder,
    within_working_hours,
)

BERLIN = ReminderPolicy(timezone="Europe/Berlin")


def ts(text: str, zone: str = "Europe/Berlin") -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp())


def local(at: int, zone: str = "Europe/Berlin") -> str:
    return datetime.fromtimestamp(at, ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M")


def test_it_reminds_at_each_lead_time_then_at_the_deadline() -> None:
    due = ts("2026-11-24 15:00")
    first = next_reminder(due, BERLIN, after=ts("2026-11-24 10:00"))
    assert first is not None
    assert (local(first.at), first.kind, first.minutes_before) == (
        "Tue 2026-11-24 14:00",
        ReminderKind.BEFORE,
        60,
    )
    second = next_reminder(due, BERLIN, after=first.at)
    assert second is not None
    assert (local(second.at), second.minutes_before) == ("Tue 2026-11-24 14:45", 15)
    third = next_reminder(due, BERLIN, after=second.at)
    assert third is not None
    assert (third.at, third.kind) == (due, ReminderKind.DUE)


def test_it_skips_lead_times_already_past_when_a_task_is_created_late() -> None:
    due = ts("2026-11-24 15:00")
    reminder = next_reminder(due, BERLIN, after=ts("2026-11-24 14:30"))
    assert reminder is not None
    assert reminder.minutes_before == 15


def test_it_repeats_overdue_every_four_hours_inside_working_hours_only() -> None:
    due = ts("2026-11-24 15:00")  # a Tuesday
    first = next_reminder(due, BERLIN, after=due)
    assert first is not None
    assert first.kind is ReminderKind.OVERDUE
    # 19:00 is the end of the working day, so the repeat waits for the next morning.
    assert local(first.at) == "Wed 2026-11-25 09:00"
    second = next_reminder(due, BERLIN, after=first.at)
    assert second is not None
    assert local(second.at) == "Wed 2026-11-25 11:00"  # the fifth 4-hour step after 15:00


def test_it_waits_for_monday_over_a_weekend() -> None:
    due = ts("2026-11-27 17:00")  # a Friday
    first = next_reminder(due, BERLIN, after=due)
    assert first is not None
    assert local(first.at) == "Mon 2026-11-30 09:00"


def test_overdue_repeats_follow_the_wall_clock_across_the_dst_change() -> None:
    # Europe/Berlin leaves summer time on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET).
    due = ts("2026-10-23 18:00")  # Friday, CEST (UTC+2)
    first = next_reminder(due, BERLIN, after=due)
    assert first is not None
    assert local(first.at) == "Mon 2026-10-26 09:00"
    assert datetime.fromtimestamp(first.at, UTC).hour == 8  # CET is UTC+1 now, not +2


def test_a_working_day_start_inside_a_spring_forward_gap_lands_after_it() -> None:
    policy = ReminderPolicy(
        timezone="Europe/Berlin", work_start=time(2, 30), work_days=frozenset(range(1, 8))
    )
    at = within_working_hours(ts("2026-03-29 01:00"), policy)
    assert local(at) == "Sun 2026-03-29 03:30"


def test_lead_reminders_are_exact_instants_whatever_the_timezone() -> None:
    due = ts("2026-10-25 03:30")  # just after the fall-back hour
    reminder = next_reminder(due, BERLIN, after=due - 2 * 3600)
    assert reminder is not None
    assert due - reminder.at == 3600


def test_an_all_day_task_is_reminded_at_the_start_of_its_working_day() -> None:
    due = ts("2026-11-24 23:59")  # amoCRM's "all day" on a Tuesday
    assert is_all_day(due, "Europe/Berlin")
    assert not is_all_day(due, "Europe/Moscow")
    first = next_reminder(due, BERLIN, after=ts("2026-11-23 18:00"), all_day=True)
    assert first is not None
    assert (local(first.at), first.kind) == ("Tue 2026-11-24 09:00", ReminderKind.TODAY)
    # Then overdue from the next working morning, never at 22:59 or at midnight.
    second = next_reminder(due, BERLIN, after=first.at, all_day=True)
    assert second is not None
    assert (local(second.at), second.kind) == ("Wed 2026-11-25 09:00", ReminderKind.OVERDUE)


def test_own_working_hours_move_overdue_repeats() -> None:
    late = ReminderPolicy.of(
        (60,), "Europe/Berlin", WorkingHours(start=time(11), end=time(20), days=frozenset({1, 2}))
    )
    due = ts("2026-11-24 19:30")  # Tuesday: the repeat at 23:30 moves to Monday 11:00
    reminder = next_reminder(due, late, after=due)
    assert reminder is not None
    assert local(reminder.at) == "Mon 2026-11-30 11:00"
