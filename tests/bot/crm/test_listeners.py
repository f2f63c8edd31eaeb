"""Every listener gets every journaled event, even when the process that journaled it died before
handing it over or a listener failed: the events come again from the listener's own queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import cast

import pytest

from bot.core.domain import CrmEvent, EntityHint, HintSource, Task
from bot.core.ports import CrmReader
from bot.crm.ingest import EventProcessor, listener_queue
from bot.store.sqlite import SqliteStore

HOLD_S = 30.0


class Clock:
    def __init__(self) -> None:
        self.at = 1_700_000_000.0

    def now(self) -> float:
        return self.at


class Recorder:
    """A listener that writes down what it was given; it can fail or hang on cue."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.fail = False
        self.entered = asyncio.Event()
        self.hang = False

    async def __call__(self, events: Sequence[CrmEvent]) -> None:
        self.entered.set()
        if self.hang:
            await asyncio.Event().wait()  # until cancelled, as a process killed mid-way
        if self.fail:
            raise RuntimeError("listener broke")
        self.seen += [e.key for e in events]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(str(tmp_path / "listeners.db"))
    yield store
    await store.close()


def processor(store: SqliteStore, clock: Clock, **listeners: Recorder) -> EventProcessor:
    # The reads are not used: the tests apply entities they already have.
    crm = cast("CrmReader", object())
    return EventProcessor(store, crm, clock, dict(listeners), hold_s=HOLD_S)


CREATED = EntityHint(kind="task", id=1, source=HintSource.WEBHOOK, action="add")


def a_task(task_id: int, *, updated_at: int = 1_700_000_000) -> Task:
    return Task(id=task_id, responsible_user_id=10, complete_till=1_700_003_600,
                updated_at=updated_at, created_at=updated_at)  # fmt: skip


async def test_each_listener_gets_the_events_once_when_all_goes_well(store: SqliteStore) -> None:
    clock, first, second = Clock(), Recorder(), Recorder()
    events = await processor(store, clock, first=first, second=second).apply_task(
        1, a_task(1), CREATED
    )

    assert events
    assert first.seen == second.seen == [e.key for e in events]
    clock.at += HOLD_S + 1
    assert await processor(store, clock, first=first, second=second).redeliver() == 0
    assert await store.count_due(listener_queue("first")) == 0


async def test_a_failed_listener_gets_the_events_again_after_the_hold(store: SqliteStore) -> None:
    clock, steady, flaky = Clock(), Recorder(), Recorder()
    flaky.fail = True
    events = await processor(store, clock, steady=steady, flaky=flaky).apply_task(
        1, a_task(1), CREATED
    )
    keys = [e.key for e in events]
    assert flaky.seen == []

    flaky.fail = False
    again = processor(store, clock, steady=steady, flaky=flaky)
    assert await again.redeliver() == 0  # still held: the first try may be under way
    clock.at += HOLD_S + 1
    assert await again.redeliver() == len(keys)

    assert flaky.seen == keys
    assert steady.seen == keys  # the one that had succeeded is not given them twice


async def test_events_journaled_by_a_process_killed_mid_hand_over_reach_every_listener(
    store: SqliteStore,
) -> None:
    done, stuck, never = Recorder(), Recorder(), Recorder()
    stuck.hang = True
    clock = Clock()
    dying = processor(store, clock, done=done, stuck=stuck, never=never)
    work = asyncio.create_task(dying.apply_task(1, a_task(1), CREATED))
    await stuck.entered.wait()
    work.cancel()  # the process dies here: "done" ran, "stuck" was running, "never" did not
    with pytest.raises(asyncio.CancelledError):
        await work
    assert done.seen
    assert stuck.seen == []
    assert never.seen == []

    stuck.hang = False
    restarted = processor(store, clock, done=done, stuck=stuck, never=never)
    clock.at += HOLD_S + 1
    await restarted.redeliver()

    assert stuck.seen == never.seen == done.seen
    assert len(done.seen) == len(set(done.seen))  # nothing twice
    # Applying the same entity again journals nothing new, so nothing more is handed out.
    assert await restarted.apply_task(1, a_task(1), CREATED) == []
    assert stuck.seen == never.seen == done.seen
