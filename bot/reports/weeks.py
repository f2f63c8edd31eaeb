"""The activity log's closed weeks rolled up, so that a report over a year reads a task at a time
rather than a line at a time.

A job (``roll_up``) rolls up each closed week (Unix weeks: seven UTC days from a Thursday)
once it has settled, in order (``roll_week``: per task the week names, its row and overdue
stretches as they stand after its lines of that week and of the weeks before that named it),
and again whenever the week's count of lines changed (a late line, a trim). A report
(``weeks``) takes a whole week kept and rolled up as its rollup, and any other stretch (its
ends, this week, a week whose count changed since) as lines; ``Gathered`` folds a task from
its lines whenever its rollup cannot stand for them (the report ends before its last line, or
a week it was named in is taken as lines), reading a rolled-up week's lines again for that.
The rollups are derived from the log and only ever read against it: losing one, or a crash
while one is written, costs time, never a figure.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from bot.core import Clock
from bot.reports.figures import CHAIN_WEEKS, Carried, Gathered, carry, own_lines, roll_week
from bot.reports.log import ACTIVITY_NS, KEEP_DAYS, READ_LIMIT, Line, parse_lines
from bot.store import Store

# Each closed week's rollup, and (apart, one read for all) how many lines it was made of.
WEEKS_NS, WEEK_COUNTS_NS = "activity-weeks", "activity-week-counts"
WEEK_S = 7 * 86400.0
KEEP_S = KEEP_DAYS * 86400.0
# A week is rolled up this long after it ends: the lines of its last moments are in by then (a
# later one changes its count, and the week is read as lines until rolled up again).
SETTLE_S = 3600.0


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the log as a report takes it: its lines, or a closed week's rollup."""

    lines: list[str] | None = None
    week: str | None = None


def take(gathered: Gathered, piece: Piece) -> dict[int, float]:
    """Add a piece to ``gathered``; returns each person it names with their latest moment."""
    if piece.week is not None:
        return gathered.add_week(piece.week)
    parsed = parse_lines(piece.lines or [])
    gathered.add_parsed(parsed)
    return {line[3]: line[1] for line in parsed}  # ``Fact``'s person and at, in time order


@dataclass(frozen=True, slots=True, eq=False)
class LogWeeks:
    _store: Store
    _clock: Clock

    def gathered(self) -> Gathered:
        """An empty ``Gathered`` for the pieces of ``weeks``, to be fed and counted in worker
        threads: it reads a rolled-up week's lines again through this event loop, should it
        need them."""
        loop = asyncio.get_running_loop()

        def lines_of(week: int) -> Mapping[int, list[Line]]:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # a worker thread, as it should be
                read = self._store.read_log(ACTIVITY_NS, week * WEEK_S, (week + 1) * WEEK_S,
                                            limit=READ_LIMIT)  # fmt: skip
                return own_lines(asyncio.run_coroutine_threadsafe(read, loop).result())[0]
            raise RuntimeError("a report's pieces are taken in a worker thread")

        return Gathered(lines_of=lines_of)

    async def weeks(self, since: float, until: float) -> AsyncIterator[Piece]:
        """The log of ``since`` <= at < ``until``, oldest first, a week at a time: a whole
        week kept and rolled up as its rollup (unless a line came or went since), any other
        stretch as its lines (at most ``READ_LIMIT`` lines in all)."""
        start, left = since, READ_LIMIT
        kept = self._clock.now() - KEEP_S  # a week older may be trimmed in part
        counts = await self._store.list_docs(WEEK_COUNTS_NS) if since < until else {}
        while start < until and left > 0:
            week = math.floor(start / WEEK_S)
            end = min((week + 1) * WEEK_S, until)
            made = counts.get(str(week))
            if made is not None and start == week * WEEK_S >= kept and end == (week + 1) * WEEK_S:
                rolled = await self._rolled(week, int(made))
                if rolled is not None:
                    left -= int(made)
                    yield Piece(week=rolled)
                    start = end
                    continue
            if await self._store.count_log(ACTIVITY_NS, start, end) == 0:
                start = end  # nothing (a year's report looks back two years): not read
                continue
            while start < end and left > 0:
                # A day at a time: a piece is parsed by one C call that holds the GIL.
                stop = min(start + 86400.0, end)
                lines = await self._store.read_log(ACTIVITY_NS, start, stop, limit=left)
                left -= len(lines)
                yield Piece(lines=lines)
                start = stop

    async def _rolled(self, week: int, made: int) -> str | None:
        """The week's rollup, if its lines are still the ``made`` it was made of."""
        if await self._store.count_log(ACTIVITY_NS, week * WEEK_S, (week + 1) * WEEK_S) != made:
            return None
        doc = await self._store.get_doc(WEEKS_NS, str(week))
        if doc is None:
            return None
        count, _, rolled = doc.partition("\n")
        return rolled if int(count) == made else None

    async def roll_up(self) -> int:
        """Roll up, in order, each closed week kept whose lines are not rolled up as they now
        stand (a job; its first run rolls up every week kept); returns how many it rolled up
        (a week trimmed to nothing: its rollup forgotten)."""
        now = self._clock.now()
        counts = await self._store.list_docs(WEEK_COUNTS_NS)
        first = math.ceil((now - KEEP_S) / WEEK_S)
        plan = []  # each closed week kept, its count of lines, and whether to roll it up
        for week in range(first, math.floor((now - SETTLE_S) / WEEK_S)):
            count = await self._store.count_log(ACTIVITY_NS, week * WEEK_S, (week + 1) * WEEK_S)
            made = counts.get(str(week))
            plan.append((week, count, made != str(count) and (count > 0 or made is not None)))
        while plan and not plan[-1][2]:
            plan.pop()
        carried: Carried | None = None  # read when first needed
        done = 0
        for week, count, roll in plan:
            start, end = week * WEEK_S, (week + 1) * WEEK_S
            if not roll:
                if carried is not None and count:  # what the next week carries on
                    await self._carry(carried, week)
                continue
            if count == 0:  # trimmed: the count first, so that no count names a lost rollup
                await self._store.delete_doc(WEEK_COUNTS_NS, str(week))
                await self._store.delete_doc(WEEKS_NS, str(week))
                continue
            if carried is None:
                carried = {}
                for before in range(max(first, week - CHAIN_WEEKS), week):
                    await self._carry(carried, before)
            # What no later week carries on any more, let go of.
            for gone in [k for k, (last, _) in carried.items() if last < week - CHAIN_WEEKS]:
                del carried[gone]
            lines = await self._store.read_log(ACTIVITY_NS, start, end, limit=READ_LIMIT)
            made = await asyncio.to_thread(roll_week, lines, week, carried)
            # Kept as long as its lines. The count is written after the rollup it names: a
            # crash between the two leaves the old count, and the week is rolled up again.
            ttl = end + KEEP_S - now
            await self._store.put_doc(WEEKS_NS, str(week), f"{len(lines)}\n{made}", ttl_s=ttl)
            await self._store.put_doc(WEEK_COUNTS_NS, str(week), str(len(lines)), ttl_s=ttl)
            done += 1
        return done

    async def _carry(self, carried: Carried, week: int) -> None:
        lines = await self._store.read_log(ACTIVITY_NS, week * WEEK_S, (week + 1) * WEEK_S,
                                           limit=READ_LIMIT)  # fmt: skip
        own = (await asyncio.to_thread(own_lines, lines))[0]
        carry(carried, own, week)
