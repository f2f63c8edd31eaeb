"""Working hours: ``/hours 10:00-19:00 mon-fri`` for a person, ``/config hours …`` for the
account. Overdue repeats and escalations keep to them, and messages that come outside hours a
person or the account set wait for the next working start (``bot.people.quiet``).

The text form is one grammar for the command, ``/config`` and the YAML file; ``format_hours``
writes what ``parse_hours`` reads, so an exported file imports unchanged.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import model_validator

from bot.core import Value, wall_clock

# ISO weekday numbers (1 = Monday) by every name the grammar takes.
DAY_NAMES: dict[str, int] = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "пн": 1, "вт": 2, "ср": 3, "чт": 4, "пт": 5, "сб": 6, "вс": 7,
}  # fmt: skip
_ENGLISH = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2})(?::(\d{2}))?[-–—](\d{1,2})(?::(\d{2}))?$", re.ASCII)
MAX_TEXT = 100  # the longest useful form is "10:00-19:00 mon,tue,wed,thu,fri,sat,sun"


class HoursError(ValueError):
    """The text is not working hours; ``code`` is the catalogue key saying why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class WorkingHours(Value):
    """From ``start`` to ``end`` (same day, local) on ISO weekdays ``days``."""

    start: time
    end: time
    days: frozenset[int]

    @model_validator(mode="after")
    def _sane(self) -> WorkingHours:
        if not self.start < self.end:
            raise ValueError("working hours end after they start")
        if not self.days or not self.days <= set(range(1, 8)):
            raise ValueError("working days are ISO weekdays, at least one")
        return self


DEFAULT_HOURS = WorkingHours(start=time(9, 0), end=time(19, 0), days=frozenset(range(1, 6)))


def parse_hours(text: str) -> WorkingHours:
    """``10:00-19:00 mon-fri``, ``9-18 пн-пт``, ``10:00-16:00 sat,sun``; no days: mon-fri."""
    words = text.strip().lower().replace(" - ", "-").split()
    if not words or len(text) > MAX_TEXT or len(words) > 2:
        raise HoursError("bad_hours")
    found = _SPAN.match(words[0])
    if found is None:
        raise HoursError("bad_hours")
    h1, m1, h2, m2 = (int(g) if g else 0 for g in found.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise HoursError("bad_hours")
    start = time(h1, m1)
    end = time(23, 59) if h2 == 24 else time(h2, m2)
    if not start < end:
        raise HoursError("hours_backwards")
    days = _days(words[1]) if len(words) == 2 else DEFAULT_HOURS.days
    return WorkingHours(start=start, end=end, days=days)


def _days(text: str) -> frozenset[int]:
    """``mon-fri`` (a range, which may wrap: ``sat-mon``), ``mon,wed,fri``, or both mixed."""
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
            raise HoursError("bad_hours_days")
        a = DAY_NAMES[first]
        b = DAY_NAMES[last] if sep else a
        days.update((a - 1 + n) % 7 + 1 for n in range((b - a) % 7 + 1))
    return frozenset(days)


def format_hours(hours: WorkingHours) -> str:
    """The canonical text (``10:00-19:00 mon-fri``), which ``parse_hours`` reads back."""
    ordered = sorted(hours.days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        _ENGLISH[r[0] - 1] if len(r) == 1 else f"{_ENGLISH[r[0] - 1]}-{_ENGLISH[r[-1] - 1]}"
        for r in runs
    ]
    return f"{hours.start:%H:%M}-{hours.end:%H:%M} {','.join(parts)}"


def within_hours(at: int, hours: WorkingHours, timezone: str) -> int:
    """``at`` if it falls in working hours (wall clock in ``timezone``, so DST moves them with
    the clock), else the start of the next working period."""
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(at, zone)
    for day_offset in range(8):
        day = local.date() + timedelta(days=day_offset)
        if day.isoweekday() not in hours.days:
            continue
        start = wall_clock(day, hours.start, zone)
        end = wall_clock(day, hours.end, zone)
        if day_offset == 0 and start <= at < end:
            return at
        if start > at:
            return start
    raise ValueError("working hours never come")  # unreachable: at least one day (validated)
