"""When to remind whom about a task: pure arithmetic on Unix time and ``zoneinfo`` wall clocks.

Each (task, recipient) has one pending entry in the store's due index: the next reminder. When
it fires, the next one is computed from here and put back; when the task changes, it is
recomputed. So the index never holds more than one entry per pair, however long a task stays
overdue.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import Field

from bot.core import Value, wall_clock

DEFAULT_LEAD_MINUTES = (60, 15)


class ReminderKind(StrEnum):
    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"


class ReminderPolicy(Value):
    """A recipient's reminder settings (``/remind``, ``/tz``) and their working hours."""

    lead_minutes: tuple[int, ...] = DEFAULT_LEAD_MINUTES
    overdue_every_min: int = Field(default=240, ge=15)
    timezone: str = "UTC"
    work_start: time = time(9, 0)
    work_end: time = time(19, 0)
    # ISO weekdays (1 = Monday) on which overdue repeats are sent.
    work_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})


class Reminder(Value):
    at: int
    kind: ReminderKind
    minutes_before: int | None = None


def next_reminder(complete_till: int, policy: ReminderPolicy, after: int) -> Reminder | None:
    """The first reminder strictly later than ``after`` (Unix seconds), or None if there is none.

    Lead reminders and the due reminder are exact instants (their distance to the deadline does
    not depend on the clock on the wall); overdue repeats keep to working hours in the policy's
    timezone, so a DST change moves them with the wall clock, not with UTC.
    """
    for minutes in sorted(set(policy.lead_minutes), reverse=True):
        at = complete_till - minutes * 60
        if at > after:
            return Reminder(at=at, kind=ReminderKind.BEFORE, minutes_before=minutes)
    if complete_till > after:
        return Reminder(at=complete_till, kind=ReminderKind.DUE)
    if not policy.work_days:
        return None
    every = policy.overdue_every_min * 60
    periods = (after - complete_till) // every + 1
    candidate = complete_till + periods * every
    return Reminder(at=within_working_hours(candidate, policy), kind=ReminderKind.OVERDUE)


def within_working_hours(at: int, policy: ReminderPolicy) -> int:
    """``at`` if it falls in working hours, else the start of the next working period."""
    zone = ZoneInfo(policy.timezone)
    local = datetime.fromtimestamp(at, zone)
    for day_offset in range(8):
        day = local.date() + timedelta(days=day_offset)
        if day.isoweekday() not in policy.work_days:
            continue
        start = wall_clock(day, policy.work_start, zone)
        end = wall_clock(day, policy.work_end, zone)
        if day_offset == 0 and start <= at < end:
            return at
        if start > at:
            return start
    raise ValueError("working hours never come")  # unreachable with at least one work day
