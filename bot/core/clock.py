"""Time as a dependency, so that tests can move it (DST, TTLs) without sleeping; and local wall
clocks to Unix time."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


def wall_clock(day: dt.date, at: dt.time, zone: ZoneInfo) -> int:
    """Unix time of a local wall-clock moment; in a DST gap, the first valid moment after it."""
    instant = dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)
    # A time inside a spring-forward gap does not exist; Python maps it with the old offset,
    # which lands it after the gap when converted back: 02:30 on a spring-forward night → 03:30.
    return int(instant.timestamp())
