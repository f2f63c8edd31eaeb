"""A report reads closed weeks rolled up, and its figures are those of the log's own lines: on
a seeded history of tasks that span days and weeks, duplicated events, deal reminders and
lines of the older form, and after a late line, a trim and a week rolled up again."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.reports import (
    Activity,
    Gathered,
    LogWeeks,
    PeriodFigures,
    day_ends,
    encode,
    figures,
    gather,
    parse_facts,
    take,
)
from bot.reports.log import ACTIVITY_NS
from bot.store import SqliteStore, Store
from bot.store.redis import RedisStore

H, DAY = 3600.0, 86400.0
START = 1_790_000_000.0  # mid-week, mid-day UTC: the first and last weeks are partial
DAYS, PEOPLE = 45, 3
WEEK = 7 * DAY
NAMES = {p: f"Manager {p}" for p in range(1, PEOPLE + 1)}


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


def history(rng: random.Random) -> list[Activity]:
    out: list[Activity] = []
    number = 0
    for day in range(DAYS):
        for person in range(1, PEOPLE + 1):
            for _ in range(rng.randint(1, 3)):
                number += 1
                out += _task(number, person, START + (day + rng.random()) * DAY, rng)
    return out


def _task(number: int, person: int, day: float, rng: random.Random) -> list[Activity]:
    subject, deadline = f"task:{number}", int(day + rng.uniform(1.5, 30) * H)

    def line(at: float, what: str, who: int = person, until: int = deadline) -> Activity:
        return Activity(id=f"{number}:{what}:{at:.0f}", at=at, kind="task", person=who,
                        subject=subject, what=what, deadline=until, deal=number // 2,
                        text=f"Call {number}")  # fmt: skip

    def press(at: float, what: str) -> Activity:
        return Activity(at=at, kind="pressed", person=person, channel="slack",
                        subject=subject, what=what)  # fmt: skip

    told = deadline - H
    out = [line(day, "created"), Activity(at=told, kind="sent", person=person,
                                          channel="telegram", subject=subject,
                                          what="reminder", deadline=deadline)]  # fmt: skip
    roll = rng.random()
    if roll < 0.25:
        out += [press(told + 60, "complete"), line(told + 61, "completed")]
        out += [line(told + 61, "completed")] * rng.randint(0, 1)  # given to the listener twice
    elif roll < 0.45:  # snoozed a day or two, then done late or never
        later = deadline + int(rng.choice((DAY, 2 * DAY)))
        out += [press(told + 300, "snooze"), line(told + 301, "deadline", until=later)]
        if rng.random() < 0.6:
            out.append(line(later + rng.uniform(-2, 5) * H, "completed", until=later))
    elif roll < 0.55:
        other = rng.randint(1, PEOPLE)
        out += [press(told + 600, "reassign"), line(told + 601, "reassigned", other)]
        out.append(line(deadline + rng.uniform(-1, 30) * H, "completed", other))
    elif roll < 0.7:
        out.append(line(deadline + rng.uniform(-3, 40) * H, "completed"))
    elif roll < 0.75:
        out.append(line(deadline + rng.uniform(0, 20) * H, "deleted"))
    else:  # left open; its escalation logged again a day later under the same key
        escalated = Activity(id=f"esc:{number}", at=deadline + 2 * H, kind="escalated",
                             person=person, subject=subject, what="escalated")  # fmt: skip
        out.append(escalated)
        if rng.random() < 0.3:
            out.append(escalated.model_copy(update={"at": escalated.at + DAY}))
    if number % 5 == 0:  # a deal's reminder, pressed on the next day
        deal = f"deal:{number // 2}"
        out.append(Activity(at=told, kind="sent", person=person, channel="telegram",
                            subject=deal, what="alert"))  # fmt: skip
        out.append(Activity(at=told + DAY, kind="pressed", person=person, channel="telegram",
                            subject=deal, what="follow_up"))  # fmt: skip
    return out


async def report(weeks: LogWeeks, store: Store, *, since: float, until: float) -> int:
    """Assert that the period's figures (and those of the period before) from the rolled-up
    weeks are those from the lines; returns how many weeks were taken rolled up."""
    length = until - since
    start = since - length - 5 * DAY
    # In a worker thread, as a report does: it may read a rolled-up week's lines again.
    fast, rolled = weeks.gathered(), 0
    async for piece in weeks.weeks(start, until):
        await asyncio.to_thread(take, fast, piece)
        rolled += piece.week is not None
    plain = gather(parse_facts(await store.read_log(ACTIVITY_NS, start, until, limit=10**6)))
    assert fast.people == plain.people
    for begin, end in ((since, until), (since - length, since)):
        ends = day_ends(begin, end, "Europe/Moscow")
        for group in (None, frozenset({1, 3})):
            expected = _figures(plain, begin, end, ends, group)
            assert expected.tasks  # not a vacuous comparison
            assert await asyncio.to_thread(_figures, fast, begin, end, ends, group) == expected
            chart = figures(plain, NAMES, since=begin, until=end, day_ends=ends, people=group,
                            tasks=False)  # as a chart asks: all but the task list  # fmt: skip
            assert chart == dataclasses.replace(expected, tasks=())
    return rolled


def _figures(
    gathered: Gathered, since: float, until: float, ends: list[float], group: frozenset[int] | None
) -> PeriodFigures:
    return figures(gathered, NAMES, since=since, until=until, day_ends=ends, people=group)


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        opened: Store = await SqliteStore.open(str(tmp_path / "log.db"))
        yield opened
        await opened.close()
        return
    url, prefix = (
        request.getfixturevalue("redis_server_url"),
        request.getfixturevalue("redis_prefix"),
    )
    opened = await RedisStore.open(url, key_prefix=prefix)
    yield opened
    await opened.close()
    client = Redis.from_url(url, decode_responses=True)  # a shared server keeps nothing of it
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_rolled_up_weeks_give_the_figures_of_the_lines(store: Store) -> None:
    lines = history(random.Random(20261205))
    for index, entry in enumerate(lines):
        # Some lines as the version before the arrays wrote them.
        line = entry.model_dump_json(exclude_none=True) if index % 7 == 0 else encode(entry)
        await store.add_log(ACTIVITY_NS, entry.at, line)
    clock = Clock(START + (DAYS + 8) * DAY)
    weeks = LogWeeks(store, clock)
    assert await weeks.roll_up() == 8  # every closed week with lines
    assert await weeks.roll_up() == 0  # nothing changed since

    end = START + DAYS * DAY - 7 * H  # mid-day: tasks cut at the end
    assert await report(weeks, store, since=end - 15 * DAY, until=end) >= 2
    assert await report(weeks, store, since=START + 9.5 * DAY, until=clock.now()) >= 5

    # A late line in a rolled-up week, about a task named in the week after too (an
    # escalation logged hours late), and the oldest day and a half trimmed:
    # those weeks are read as lines until rolled up again, and the later week's rollup of
    # that task, made on its lines as they were, is not taken.
    named = {(e.subject, e.at // WEEK) for e in lines if e.subject.startswith("task:")}
    subject, week = min(
        (s, w) for s, w in named if (s, w + 1) in named and w * WEEK > START + 2 * DAY
    )
    first = min((e for e in lines if e.subject == subject and e.at // WEEK == week),
                key=lambda e: e.at)  # fmt: skip
    late = Activity(id="late", at=first.at + 1, kind="escalated", person=first.person,
                    subject=subject, what="escalated")  # fmt: skip
    await store.add_log(ACTIVITY_NS, late.at, encode(late))
    await store.trim_log(ACTIVITY_NS, START + 1.5 * DAY)
    before = await report(weeks, store, since=START + 9.5 * DAY, until=clock.now())
    assert await weeks.roll_up() == 2  # the late line's week, the one trimmed in part
    assert await report(weeks, store, since=START + 9.5 * DAY, until=clock.now()) > before
    assert await weeks.roll_up() == 0
