"""Durations and moments as people type them: ``15m``, ``1h30m``, ``fri 10:00``, ``завтра 9:00``.

One parser for every command and every "Custom…" snooze, in Telegram and Slack alike. Errors
carry a code that the i18n catalogue turns into a message with an example.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import wall_clock

_UNITS = {
    "m": 60, "min": 60, "мин": 60, "м": 60,
    "h": 3600, "hr": 3600, "ч": 3600,
    "d": 86400, "д": 86400, "дн": 86400,
    "w": 7 * 86400, "н": 7 * 86400, "нед": 7 * 86400,
}  # fmt: skip
_PART = re.compile(r"([0-9]{1,4})\s*([a-zа-я]+)")
_WEEKDAYS = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "пн": 1, "вт": 2, "ср": 3, "чт": 4, "пт": 5, "сб": 6, "вс": 7,
    "пон": 1, "вто": 2, "сре": 3, "чет": 4, "пят": 5, "суб": 6, "вос": 7,
}  # fmt: skip
_TODAY = {"today", "сегодня"}
_TOMORROW = {"tomorrow", "tmrw", "завтра"}
_CLOCK = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?$")
MAX_DURATION = timedelta(days=365)


class ParseError(ValueError):
    """``code`` names the catalogue message that explains the mistake."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_duration(text: str, *, longest: timedelta = MAX_DURATION) -> timedelta:
    """``30m``, ``2h``, ``1h30m``, ``1d``, ``2 ч``; a bare number means minutes."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.isascii() and cleaned.isdigit():  # "²".isdigit() is true too
        cleaned += "m"
    seconds, pos = 0, 0
    for match in _PART.finditer(cleaned):
        unit = _UNITS.get(match.group(2))
        if match.start() != pos or unit is None:
            raise ParseError("bad_duration")
        seconds += int(match.group(1)) * unit
        pos = match.end()
    if pos != len(cleaned) or seconds <= 0:
        raise ParseError("bad_duration")
    if seconds > longest.total_seconds():
        raise ParseError("duration_too_long")
    return timedelta(seconds=seconds)


def parse_clock(text: str) -> time:
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ParseError("bad_time")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ParseError("bad_time")
    return time(hour, minute)


def parse_moment(text: str, *, now: int, timezone: str) -> int:
    """A future moment (Unix seconds) from ``2h``, ``10:00``, ``tomorrow 9:00``, ``fri 10:00``.

    A bare time means its next occurrence; a weekday means the next such day (a week on if it is
    today and the time has passed). Wall-clock times are in ``timezone``, DST included.
    """
    words = text.strip().lower().split()
    if not words:
        raise ParseError("bad_moment")
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(now, zone).date()
    first = words[0].rstrip(".,")
    if len(words) == 1 and _CLOCK.match(first) is None:
        try:
            return now + int(parse_duration(first).total_seconds())
        except ParseError as exc:
            # Not a duration either: say "when?", unless it was a duration, too long.
            raise ParseError("bad_moment" if exc.code == "bad_duration" else exc.code) from None
    if _CLOCK.match(first) is not None and len(words) == 1:
        at = parse_clock(first)
        moment = wall_clock(today, at, zone)
        return moment if moment > now else wall_clock(today + timedelta(days=1), at, zone)
    if len(words) != 2:
        raise ParseError("bad_moment")
    at = parse_clock(words[1])
    day = _day(first, today)
    moment = wall_clock(day, at, zone)
    if moment <= now:
        if first in _WEEKDAYS:
            moment = wall_clock(day + timedelta(days=7), at, zone)
        else:
            raise ParseError("moment_in_past")
    return moment


def _day(word: str, today: date) -> date:
    if word in _TODAY:
        return today
    if word in _TOMORROW:
        return today + timedelta(days=1)
    weekday = _WEEKDAYS.get(word[:3]) or _WEEKDAYS.get(word[:2])
    if weekday is None:
        raise ParseError("bad_moment")
    return today + timedelta(days=(weekday - today.isoweekday()) % 7)
