"""Quiet hours (``/quiet 22:00-08:00``, every day in the person's timezone), mute (``/mute
2h``) and time outside working hours someone set (``/hours``, ``/config hours``): while any
lasts, a person's alerts and reminders wait, and come when it is over.

Pure arithmetic on Unix time and ``zoneinfo`` wall clocks, so DST nights hold as long as the
wall clock says.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import wall_clock
from bot.people.hours import WorkingHours, within_hours
from bot.people.prefs import UserPrefs

MAX_MUTE_MINUTES = 7 * 24 * 60


def quiet_end(now: int, start: time, end: time, timezone: str) -> int | None:
    """When the quiet window that ``now`` falls in ends; None if ``now`` is outside it.

    A window whose end is not after its start runs over midnight (22:00-08:00)."""
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(now, zone).date()
    for day in (today - timedelta(days=1), today):
        begins = wall_clock(day, start, zone)
        ends = wall_clock(day if end > start else day + timedelta(days=1), end, zone)
        if begins <= now < ends:
            return ends
    return None


def held_until(
    now: int, prefs: UserPrefs, timezone: str, hours: WorkingHours | None = None
) -> int | None:
    """Until when this person's alerts and reminders wait; None: they go now. ``hours``: the
    working hours someone chose (None: no holding outside any)."""
    until = now
    # A mute that ends inside quiet hours (or quiet hours, or the night before working hours,
    # that end inside a mute) holds on until all are over; a few rounds reach the end of any
    # such chain of one of each.
    for _ in range(4):
        ends = [prefs.muted_until] if prefs.muted_until and prefs.muted_until > until else []
        if prefs.quiet_start is not None and prefs.quiet_end is not None:
            quiet = quiet_end(until, prefs.quiet_start, prefs.quiet_end, timezone)
            ends += [quiet] if quiet is not None else []
        if hours is not None:
            start = within_hours(until, hours, timezone)
            ends += [start] if start > until else []
        if not ends:
            break
        until = max(ends)
    return until if until > now else None
