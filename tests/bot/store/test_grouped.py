"""Group commit (``GroupCommit``): concurrent calls share writes, and each hears its own
outcome, a failure included. The store side (``put_due_once_many``) is in the contract tests."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import GroupCommit


class Writes:
    """A write that takes one turn of the event loop and records each group it was given."""

    def __init__(self, fail: bool = False) -> None:
        self.groups: list[list[int]] = []
        self.fail = fail

    async def __call__(self, calls: list[int]) -> list[int]:
        self.groups.append(calls)
        await asyncio.sleep(0)
        if self.fail:
            raise ConnectionError("store down")
        return [c * 10 for c in calls]


async def test_calls_made_during_a_write_go_together_in_the_next() -> None:
    writes = Writes()
    group = GroupCommit[int, int](writes)

    results = await asyncio.gather(*(group(n) for n in range(50)))

    assert results == [n * 10 for n in range(50)]
    # The first call is written at once, alone; the 49 that came meanwhile share one write.
    assert writes.groups == [[0], list(range(1, 50))]
    assert await group(7) == 70  # nothing under way: written at once


async def test_a_failed_write_fails_every_call_it_carried_and_the_next_still_works() -> None:
    writes = Writes(fail=True)
    group = GroupCommit[int, int](writes)

    outcomes = await asyncio.gather(*(group(n) for n in range(5)), return_exceptions=True)

    assert all(isinstance(o, ConnectionError) for o in outcomes)
    writes.fail = False
    assert await group(1) == 10


async def test_a_cancelled_writer_leaves_the_others_to_write_their_own() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    groups: list[list[int]] = []

    async def slow(calls: list[int]) -> list[int]:
        groups.append(calls)
        started.set()
        if calls == [0]:
            await release.wait()  # cancelled here
        return calls

    group = GroupCommit[int, int](slow)
    first = asyncio.create_task(group(0))
    await started.wait()
    second = asyncio.create_task(group(1))
    await asyncio.sleep(0)
    first.cancel()

    assert await second == 1  # it wrote its own once the cancelled write was over
    with pytest.raises(asyncio.CancelledError):
        await first
    assert groups == [[0], [1]]
