"""When to remind whom about a task: pure arithmetic on Unix time and ``zoneinfo`` wall clocks.

Each (task, recipient) has one pending entry in the store's due index: the next reminder. When
it fires, the next one is computed from here and put back; when the task changes, it is
recomputed. So the index never holds more than one entry per pair, however long a task stays
overdue.

An all-day task is one amoCRM puts at 23:59 local: it is reminded once at the start of that
working day (nobody wants a reminder at 22:59 or at midnight), then as overdue in working hours.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import Field

from bot.core import Value, wall_clock
from bot.people import DEFAULT_HOURS, WorkingHours, within_hours

DEFAULT_LEAD_MINUTES = (60, 15)


class ReminderKind(StrEnum):
    BEFORE = "before"
    DUE = "due"
    TODAY = "today"  # an all-day task, at the start of its working day
    OVERDUE = "overdue"


class ReminderPolicy(Value):
    """A recipient's reminder settings (``/remind``, ``/tz``) and their working hours."""

    lead_minutes: tuple[int, ...] = DEFAULT_LEAD_MINUTES
    overdue_every_min: int = Field(default=240, ge=15)
    timezone: str = "UTC"
    work_start: time = DEFAULT_HOURS.start
    work_end: time = DEFAULT_HOURS.end
    # ISO weekdays (1 = Monday) on which overdue repeats are sent.
    work_days: frozenset[int] = DEFAULT_HOURS.days

    @classmethod
    def of(
        cls, lead_minutes: tuple[int, ...], timezone: str, hours: WorkingHours
    ) -> ReminderPolicy:
        return cls(lead_minutes=lead_minutes, timezone=timezone, work_start=hours.start,
                   work_end=hours.end, work_days=hours.days)  # fmt: skip


class Reminder(Value):
    at: int
    kind: ReminderKind
    minutes_before: int | None = None


def is_all_day(complete_till: int, account_timezone: str) -> bool:
    """amoCRM's "all day" deadline: 23:59 (:00 or :59 seconds) in the account's timezone."""
    local = datetime.fromtimestamp(complete_till, ZoneInfo(account_timezone))
    return (local.hour, local.minute) == (23, 59)


def next_reminder(
    complete_till: int, policy: ReminderPolicy, after: int, *, all_day: bool = False
) -> Reminder | None:
    """The first reminder strictly later than ``after`` (Unix seconds), or None if there is none.

    Lead reminders and the due reminder are exact instants (their distance to the deadline does
    not depend on the clock on the wall); overdue repeats keep to working hours in the policy's
    timezone, so a DST change moves them with the wall clock, not with UTC. An ``all_day`` task
    has one reminder at the working start of its day instead of lead and due reminders.
    """
    if all_day:
        zone = ZoneInfo(policy.timezone)
        day = datetime.fromtimestamp(complete_till, zone).date()
        start = min(wall_clock(day, policy.work_start, zone), complete_till)
        if start > after:
            return Reminder(at=start, kind=ReminderKind.TODAY)
        return _overdue(complete_till, policy, max(after, complete_till))
    for minutes in sorted(set(policy.lead_minutes), reverse=True):
        at = complete_till - minutes * 60
        if at > after:
            return Reminder(at=at, kind=ReminderKind.BEFORE, minutes_before=minutes)
    if complete_till > after:
        return Reminder(at=complete_till, kind=ReminderKind.DUE)
    return _overdue(complete_till, policy, after)


def _overdue(complete_till: int, policy: ReminderPolicy, after: int) -> Reminder | None:
    if not policy.work_days:
        return None
    every = policy.overdue_every_min * 60
    periods = (after - complete_till) // every + 1
    candidate = complete_till + periods * every
    return Reminder(at=within_working_hours(candidate, policy), kind=ReminderKind.OVERDUE)


def within_working_hours(at: int, policy: ReminderPolicy) -> int:
    """``at`` if it falls in working hours, else the start of the next working period."""
    hours = WorkingHours(start=policy.work_start, end=policy.work_end, days=policy.work_days)
    return within_hours(at, hours, policy.timezone)
