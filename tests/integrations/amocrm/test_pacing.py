from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from integrations.amocrm import NoPacing, StorePacer, in_background


async def test_it_spaces_turns_by_the_rate(store: SqliteStore) -> None:
    pacer = StorePacer(store, rate_per_s=50, burst=1)
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait_turn() for _ in range(11)))
    # Eleven turns are ten intervals of 20 ms apart.
    assert time.monotonic() - started >= 0.19


async def test_it_gives_a_burst_while_quiet_and_never_more_in_a_window(
    store: SqliteStore,
) -> None:
    pacer = StorePacer(store, rate_per_s=50, burst=3)  # 3 turns in any 60 ms
    started = time.monotonic()
    turns: list[float] = []

    async def turn() -> None:
        await pacer.wait_turn()
        turns.append(time.monotonic() - started)

    await asyncio.gather(*(turn() for _ in range(9)))
    turns.sort()
    assert turns[2] < 0.05  # the first three at once
    # Any four in a row are a window apart (less the clock's and the loop's wobble).
    assert all(b - a >= 0.055 for a, b in zip(turns, turns[3:], strict=False))
    assert 0.11 <= turns[-1] < 0.5  # and the rate holds: three windows for nine turns


async def test_background_turns_leave_a_persons_turn_free_at_once(store: SqliteStore) -> None:
    pacer = StorePacer(store, rate_per_s=30, burst=3, kept_for_people=1)  # 3 in any 100 ms
    started = time.monotonic()
    background: list[float] = []
    share_taken = asyncio.Event()

    async def job_read() -> None:
        await pacer.wait_turn()
        background.append(time.monotonic() - started)
        if len(background) == 2:  # the job's first two reads went: its share of the window
            share_taken.set()

    jobs = [asyncio.create_task(in_background(job_read)()) for _ in range(6)]
    await share_taken.wait()
    asked = time.monotonic()
    await pacer.wait_turn()  # a person's request, while four of the job's wait
    person = time.monotonic() - asked
    await asyncio.gather(*jobs)

    assert person < 0.05, "a person's turn waited behind the job's"
    background.sort()
    # The job's six reads go two a window: three windows (less the loop's wobble).
    assert background[-1] >= 0.19
    # Never more than three turns in any window, the person's included.
    turns = sorted([*background, asked - started + person])
    assert all(b - a >= 0.095 for a, b in zip(turns, turns[3:], strict=False))


async def test_two_pacers_on_one_store_share_the_pace(store: SqliteStore) -> None:
    a, b = StorePacer(store, rate_per_s=50, burst=1), StorePacer(store, rate_per_s=50, burst=1)
    started = time.monotonic()
    await asyncio.gather(*(p.wait_turn() for p in (a, b) * 5))
    assert time.monotonic() - started >= 0.17


async def test_separate_names_keep_separate_paces(store: SqliteStore) -> None:
    a = StorePacer(store, name="one", rate_per_s=2, burst=1)
    b = StorePacer(store, name="two", rate_per_s=2, burst=1)
    started = time.monotonic()
    await asyncio.gather(a.wait_turn(), b.wait_turn())
    assert time.monotonic() - started < 0.4


async def test_it_refuses_a_zero_rate(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        StorePacer(store, rate_per_s=0)
    with pytest.raises(ValueError, match="positive"):
        StorePacer(store, burst=0)


async def test_no_pacing_never_waits() -> None:
    await NoPacing().wait_turn()


async def test_two_store_clients_on_one_redis_keep_one_pace(
    redis_server_url: str, redis_prefix: str
) -> None:
    # Two replicas: each its own connection to one Redis, each its own pacer.
    a = await RedisStore.open(redis_server_url, key_prefix=redis_prefix)
    b = await RedisStore.open(redis_server_url, key_prefix=redis_prefix)
    try:
        pacers = (StorePacer(a, rate_per_s=50, burst=1), StorePacer(b, rate_per_s=50, burst=1))
        started = time.monotonic()
        await asyncio.gather(*(p.wait_turn() for p in pacers * 8))
        # Sixteen turns on one timeline are fifteen intervals of 20 ms; two timelines would
        # have given them in 140 ms.
        assert time.monotonic() - started >= 0.29
    finally:
        await a.close()
        await b.close()


class SlowAnswers(SqliteStore):
    """A real store whose first ``slow`` slot answers come ``delay_s`` after it read its clock,
    as from a replica descheduled between asking and being told."""

    slow = 0
    delay_s = 0.0
    reservations = 0

    async def reserve_in_window(self, name: str, count: int, window_s: float) -> float:
        self.reservations += 1
        wait = await super().reserve_in_window(name, count, window_s)
        if self.reservations <= self.slow:
            await asyncio.sleep(self.delay_s)
        return wait


@pytest.mark.parametrize(
    ("slow", "delay_s", "late_s", "retaken"),
    [
        # Sent at once, the late turn would go out bunched with the turns booked after it.
        (1, 0.25, 0.2, 1),
        # A process that is always late still gets its turn, after a few retakes.
        (100, 0.05, 0.02, 3),
    ],
)
async def test_a_turn_that_wakes_late_takes_a_fresh_slot(
    tmp_path: Path, slow: int, delay_s: float, late_s: float, retaken: int
) -> None:
    store = await SlowAnswers.open(str(tmp_path / "late.db"))
    store.slow, store.delay_s = slow, delay_s
    try:
        pacer = StorePacer(store, rate_per_s=50, burst=1, late_s=late_s)
        await pacer.wait_turn()
        assert (pacer.retaken, store.reservations) == (retaken, retaken + 1)
    finally:
        await store.close()
