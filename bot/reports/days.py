"""The activity log's closed days rolled up, so that a report over a year reads a task at a time
rather than a line at a time.

A job (``roll_up``) rolls up each closed UTC day once it has settled (``roll_day``: per task
the day names, its row and overdue stretches as they stand after its last line, with its
lines), and again whenever the day's count of lines changed (a late line, a trim). A report
(``days``) takes a whole day kept and rolled up as its rollup, and any other stretch (its
ends, today, a day whose count changed since) as lines; ``Gathered`` folds a task named on more
than one day from its lines, so that the figures are those of the lines themselves. The
rollups are derived from the log and only ever read against it: losing one, or a crash while
one is written, costs time, never a figure.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.core import Clock
from bot.reports.figures import CHAIN_DAYS, Carried, Gathered, carried_of, roll_day
from bot.reports.log import ACTIVITY_NS, KEEP_DAYS, READ_LIMIT, parse_lines
from bot.store import Store

# Each closed day's rollup, and (apart, one read for all) how many lines it was made of.
DAYS_NS, DAY_COUNTS_NS = "activity-days", "activity-day-counts"
DAY_S = 86400.0
# A day is rolled up this long after it ends: the lines of its last moments are in by then (a
# later one changes its count, and the day is read as lines until rolled up again).
SETTLE_S = 3600.0


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the log as a report takes it: its lines, or a closed day's rollup."""

    lines: list[str] | None = None
    day: str | None = None


def take(gathered: Gathered, piece: Piece) -> dict[int, float]:
    """Add a piece to ``gathered``; returns each person it names with their latest moment."""
    if piece.day is not None:
        return gathered.add_day(piece.day)
    parsed = parse_lines(piece.lines or [])
    gathered.add_parsed(parsed)
    return {line[3]: line[1] for line in parsed}  # ``Fact``'s person and at, in time order


@dataclass(frozen=True, slots=True, eq=False)
class LogDays:
    _store: Store
    _clock: Clock

    async def days(self, since: float, until: float) -> AsyncIterator[Piece]:
        """The log of ``since`` <= at < ``until``, oldest first, a UTC day at a time: a whole
        day kept and rolled up as its rollup (unless a line came or went since), any other as
        its lines (at most ``READ_LIMIT`` lines in all)."""
        start, left = since, READ_LIMIT
        kept = self._clock.now() - KEEP_DAYS * DAY_S  # a day older may be trimmed in part
        counts = await self._store.list_docs(DAY_COUNTS_NS) if since < until else {}
        while start < until and left > 0:
            day = math.floor(start / DAY_S)
            end = min((day + 1) * DAY_S, until)
            made = counts.get(str(day))
            if made is not None and start == day * DAY_S and end == (day + 1) * DAY_S >= kept:
                rolled = await self._rolled(day, int(made))
                if rolled is not None:
                    left -= int(made)
                    yield Piece(day=rolled)
                    start = end
                    continue
            lines = await self._store.read_log(ACTIVITY_NS, start, end, limit=left)
            left -= len(lines)
            yield Piece(lines=lines)
            start = end

    async def _rolled(self, day: int, made: int) -> str | None:
        """The day's rollup, if its lines are still the ``made`` it was made of."""
        if await self._store.count_log(ACTIVITY_NS, day * DAY_S, (day + 1) * DAY_S) != made:
            return None
        doc = await self._store.get_doc(DAYS_NS, str(day))
        if doc is None:
            return None
        count, _, rolled = doc.partition("\n")
        return rolled if int(count) == made else None

    async def roll_up(self) -> int:
        """Roll up, in order, each closed day kept whose lines are not rolled up as they now
        stand (a job; its first run rolls up every day kept); returns how many it rolled up
        (a day trimmed to nothing: its rollup forgotten)."""
        now = self._clock.now()
        counts = await self._store.list_docs(DAY_COUNTS_NS)
        carried: Carried | None = None  # read when first needed
        done = 0
        first = math.ceil(now / DAY_S - KEEP_DAYS)
        for day in range(first, math.floor((now - SETTLE_S) / DAY_S)):
            start, end = day * DAY_S, (day + 1) * DAY_S
            count = await self._store.count_log(ACTIVITY_NS, start, end)
            if counts.get(str(day)) == str(count) or (count == 0 and str(day) not in counts):
                if carried is not None and count:  # what the next day carries on
                    carried |= await self._carried(day)
                continue
            if count == 0:  # trimmed: the count first, so that no count names a lost rollup
                await self._store.delete_doc(DAY_COUNTS_NS, str(day))
                await self._store.delete_doc(DAYS_NS, str(day))
                continue
            if carried is None:
                carried = {}
                for before in range(max(first, day - CHAIN_DAYS), day):
                    carried |= await self._carried(before)
            if day % 7 == 0:  # what no later day carries on any more, let go of
                for gone in [k for k, (last, _) in carried.items() if last < day - CHAIN_DAYS]:
                    del carried[gone]
            lines = await self._store.read_log(ACTIVITY_NS, start, end, limit=READ_LIMIT)
            made = await asyncio.to_thread(roll_day, lines, day, carried)
            # Kept as long as its lines. The count is written after the rollup it names: a
            # crash between the two leaves the old count, and the day is rolled up again.
            ttl = end + KEEP_DAYS * DAY_S - now
            await self._store.put_doc(DAYS_NS, str(day), f"{len(lines)}\n{made}", ttl_s=ttl)
            await self._store.put_doc(DAY_COUNTS_NS, str(day), str(len(lines)), ttl_s=ttl)
            done += 1
        return done

    async def _carried(self, day: int) -> Carried:
        doc = await self._store.get_doc(DAYS_NS, str(day))
        if doc is None:
            return {}
        return await asyncio.to_thread(carried_of, doc.partition("\n")[2])
