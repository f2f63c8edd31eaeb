"""The webhook inbox's group commit: concurrent webhooks share store writes, every hint is stored
however its caller ends, and a failed write fails exactly the webhooks whose hints it held. Its
drainer waits, losing nothing, while amoCRM refuses our token, and re-reads a batch's entities
in one amoCRM request per kind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import cast

import pytest

from bot.core.clock import SystemClock
from bot.core.domain import Deal, EntityHint, HintSource, Task
from bot.core.ports import CrmError, CrmReader
from bot.crm.catchup import CacheSync
from bot.crm.drain import InboxDrainer
from bot.crm.ingest import INBOX_QUEUE, EventProcessor, HintInbox, Prefetched, QueuedHint
from bot.store import DueEntry
from bot.store.sqlite import SqliteStore
from integrations.amocrm import AmoClient, LongLivedTokenAuth, NoPacing
from sandbox.amocrm import AmoEmulator, seed_demo_account


class WatchedStore(SqliteStore):
    """A real SQLite store whose inbox writes can be held at a gate, counted, or failed once."""

    gate: asyncio.Event | None = None
    writes: int = 0
    fail_next: bool = False

    async def put_due_many(self, queue: str, entries: Sequence[DueEntry]) -> None:
        self.writes += 1
        failing, self.fail_next = self.fail_next, False  # as the write starts
        if self.gate is not None:
            await self.gate.wait()
        if failing:
            raise OSError("disk full")
        await super().put_due_many(queue, entries)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[WatchedStore]:
    store = await WatchedStore.open(str(tmp_path / "inbox.db"))
    yield store
    await store.close()


def hint(task_id: int) -> list[EntityHint]:
    return [EntityHint(kind="task", id=task_id, source=HintSource.WEBHOOK)]


async def queued(store: SqliteStore) -> list[str]:
    items = await store.claim_due(INBOX_QUEUE, now=2e9, limit=1000, lease_s=60)
    return sorted(i.item_id for i in items)


async def held_write(
    store: WatchedStore, inbox: HintInbox, hints: list[EntityHint]
) -> asyncio.Task[None]:
    """A webhook whose write has started and is held at the store's gate until it is set."""
    store.gate = asyncio.Event()
    accepted = asyncio.create_task(inbox.accept(hints))
    await asyncio.sleep(0)
    return accepted


async def test_concurrent_webhooks_share_writes_and_every_hint_is_stored(
    store: WatchedStore,
) -> None:
    inbox = HintInbox(store, SystemClock())

    await asyncio.gather(*(inbox.accept(hint(n)) for n in range(1, 51)))

    assert await queued(store) == sorted(f"task:{n}" for n in range(1, 51))
    assert store.writes <= 2  # the first webhook's write, then one for the 49 that came meanwhile


async def test_a_webhook_that_goes_away_does_not_strand_the_others(store: WatchedStore) -> None:
    inbox = HintInbox(store, SystemClock())
    store.gate = asyncio.Event()
    first = asyncio.create_task(inbox.accept(hint(1)))
    await asyncio.sleep(0)  # its write starts and is held at the gate
    leaving = asyncio.create_task(inbox.accept(hint(2)))
    staying = asyncio.create_task(inbox.accept(hint(3)))
    await asyncio.sleep(0)

    leaving.cancel()  # the request that started the second batch is gone
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(first, staying), timeout=5)

    assert leaving.cancelled()
    # Its hint was already in the batch and is stored with the rest: amoCRM's retry of that
    # webhook finds the same entry (one per entity), so nothing is applied twice.
    assert await queued(store) == ["task:1", "task:2", "task:3"]


async def test_a_failed_write_fails_its_own_webhooks_and_the_next_ones_are_stored(
    store: WatchedStore,
) -> None:
    inbox = HintInbox(store, SystemClock())
    store.fail_next = True

    results = await asyncio.gather(inbox.accept(hint(1)), return_exceptions=True)
    assert isinstance(results[0], OSError)  # the handler answers 500, amoCRM sends it again

    await inbox.accept(hint(2))
    assert await queued(store) == ["task:2"]


async def test_a_failed_write_fails_every_webhook_of_its_batch_and_no_other(
    store: WatchedStore,
) -> None:
    inbox = HintInbox(store, SystemClock())
    first = await held_write(store, inbox, hint(1))
    batch = [asyncio.create_task(inbox.accept(hint(n))) for n in (2, 3, 4)]
    await asyncio.sleep(0)

    store.fail_next = True  # the write held goes through; the next one, the batch's, fails
    assert store.gate is not None
    store.gate.set()
    results = await asyncio.wait_for(asyncio.gather(*batch, return_exceptions=True), timeout=5)

    await first
    assert [type(r) for r in results] == [OSError, OSError, OSError]  # each answered 503
    assert await queued(store) == ["task:1"]


async def test_a_later_webhook_about_an_entity_replaces_the_earlier_one(
    store: WatchedStore,
) -> None:
    inbox = HintInbox(store, SystemClock())
    seven = EntityHint(kind="task", id=7, source=HintSource.WEBHOOK)
    added = await held_write(store, inbox, [seven.model_copy(update={"action": "add"})])
    deleted = asyncio.create_task(inbox.accept([seven.model_copy(update={"action": "delete"})]))
    await asyncio.sleep(0)
    assert store.gate is not None
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(added, deleted), timeout=5)

    # Batches are written in the order they were opened: the entry left is the later hint.
    [item] = await store.claim_due(INBOX_QUEUE, now=2e9, limit=10, lease_s=60)
    assert QueuedHint.model_validate_json(item.payload).hint.action == "delete"


async def test_a_webhook_is_answered_only_once_its_hint_is_in_the_file(
    store: WatchedStore, tmp_path: Path
) -> None:
    inbox = HintInbox(store, SystemClock())
    store.gate = asyncio.Event()
    accepted = asyncio.create_task(inbox.accept(hint(1)))
    await asyncio.sleep(0.05)
    assert not accepted.done()  # not while the write is held

    store.gate.set()
    await asyncio.wait_for(accepted, timeout=5)
    other = await SqliteStore.open(str(tmp_path / "inbox.db"))  # as another process sees it
    try:
        [item] = await other.claim_due(INBOX_QUEUE, now=2e9, limit=10, lease_s=60)
    finally:
        await other.close()
    assert QueuedHint.model_validate_json(item.payload) == QueuedHint(hint=hint(1)[0])


async def test_close_waits_for_the_write_under_way(store: WatchedStore) -> None:
    inbox = HintInbox(store, SystemClock())
    store.gate = asyncio.Event()
    accepted = asyncio.create_task(inbox.accept(hint(1)))
    await asyncio.sleep(0)
    closing = asyncio.create_task(inbox.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # the write is still held

    store.gate.set()
    await asyncio.wait_for(asyncio.gather(accepted, closing), timeout=5)
    assert await queued(store) == ["task:1"]


class TokenRefused(CrmError):
    access_lost = True


class RefusingAmo:
    """amoCRM's reads as the inbox makes them: refused (a revoked token) until ``refusing`` is
    cleared; then every entity is gone."""

    def __init__(self) -> None:
        self.refusing = True
        self.reads: list[int] = []

    def _read(self, entity_id: int) -> None:
        self.reads.append(entity_id)
        if self.refusing:
            raise TokenRefused("401")

    async def task(self, task_id: int) -> Task | None:
        self._read(task_id)
        return None

    async def lead(self, lead_id: int) -> Deal | None:
        self._read(lead_id)
        return None

    async def tasks(self, *, ids: Sequence[int]) -> list[Task]:
        self._read(-len(ids))  # a batch read, logged as minus its size
        return []


class Gate:
    """The access watch as the drainer sees it."""

    def __init__(self) -> None:
        self.lost = False
        self.told: list[str] = []

    async def paused(self) -> bool:
        return self.lost

    async def lost_now(self, why: str) -> None:
        self.lost = True
        self.told.append(why)


async def test_a_refused_token_keeps_every_hint_queued_until_access_is_back(
    store: WatchedStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SystemClock()
    await HintInbox(store, clock).accept([*hint(1), *hint(2), *hint(3)])
    amo, gate = RefusingAmo(), Gate()
    processor = EventProcessor(store, cast("CrmReader", amo), clock)
    drainer = InboxDrainer(store, processor, clock, gate=gate)

    with caplog.at_level(logging.INFO):
        assert await drainer.drain_once() == 0
        assert gate.told == ["amoCRM rejects the token"]  # the admins are told by the watch
        assert amo.reads == [-3]  # the batch's one read is refused, and nothing follows
        assert await drainer.drain_once() == 0  # paused: nothing is claimed, nothing read
        assert len(amo.reads) == 1

    # All three wait, due now (not pushed back as a failure would be), and no traceback.
    assert await store.count_due(INBOX_QUEUE) == 3
    earliest = await store.earliest_due(INBOX_QUEUE)
    assert earliest is not None
    assert earliest <= clock.now()
    assert [r for r in caplog.records if r.exc_info] == []
    assert "3 hint(s) wait in the inbox" in caplog.text

    amo.refusing, gate.lost = False, False  # re-authorised
    assert await drainer.drain_once() == 3
    # One list read for the three; none of them is in it: all gone, none asked for again.
    assert amo.reads[1:] == [-3]
    assert await store.count_due(INBOX_QUEUE) == 0


async def test_a_batch_of_hints_is_re_read_in_one_request_per_kind(store: WatchedStore) -> None:
    emu = AmoEmulator(subdomain="demo", rate_limit_per_s=7.0)
    demo = seed_demo_account(emu)
    clock = SystemClock()
    async with (
        emu.serve(host="127.0.0.1", port=0) as base_url,
        AmoClient(
            base_url, auth=LongLivedTokenAuth(emu.long_lived_token), pacer=NoPacing()
        ) as amo,
    ):
        processor = EventProcessor(store, amo, clock)
        await CacheSync(store, amo, processor, clock).sync_once()  # the cache as amoCRM has it
        moved = [demo.task_due_15m, demo.task_due_60m, demo.task_overdue]
        for task_id in moved:
            emu.update_task(task_id, complete_till=emu.task(task_id)["complete_till"] + 3600)
        reassigned = list(demo.leads[:2])
        for deal_id in reassigned:
            emu.set_lead_responsible(deal_id, demo.oleg)
        emu.delete_task(demo.task_due_3h)
        hints = [EntityHint(kind="task", id=t, source=HintSource.WEBHOOK) for t in moved]
        hints += [EntityHint(kind="deal", id=d, source=HintSource.WEBHOOK) for d in reassigned]
        hints.append(EntityHint(kind="task", id=demo.task_due_3h, source=HintSource.WEBHOOK))
        await HintInbox(store, clock).accept(hints)
        before = len(emu.request_log)

        assert await InboxDrainer(store, processor, clock).drain_once() == 6

    # One list per kind; the task the list did not answer is deleted, not asked for again.
    asked = sorted(r.path for r in emu.request_log[before:])
    assert asked == ["/api/v4/leads", "/api/v4/tasks"]
    for task_id in moved:
        cached_task = await store.get_task(task_id)
        assert cached_task is not None
        assert cached_task.value.complete_till == emu.task(task_id)["complete_till"]
    for deal_id in reassigned:
        cached_deal = await store.get_deal(deal_id)
        assert cached_deal is not None
        assert cached_deal.value.responsible_user_id == demo.oleg
    gone = await store.get_task(demo.task_due_3h)
    assert gone is None  # removed from the cache
    assert await store.count_due(INBOX_QUEUE) == 0


class IgnoredFilter(RefusingAmo):
    """amoCRM as if it ignored ``filter[id]``: the list answers a task nobody asked for."""

    async def tasks(self, *, ids: Sequence[int]) -> list[Task]:
        self._read(-len(ids))
        other = Task(id=999, text="Someone else's", responsible_user_id=1, complete_till=0,
                     is_completed=False, updated_at=0)  # fmt: skip
        return [other]


async def test_a_list_that_ignored_its_filter_leaves_each_hint_to_read_alone(
    store: WatchedStore,
) -> None:
    clock = SystemClock()
    await HintInbox(store, clock).accept([*hint(1), *hint(2), *hint(3)])
    amo = IgnoredFilter()
    amo.refusing = False

    assert await InboxDrainer(store, EventProcessor(store, cast("CrmReader", amo), clock),
                              clock).drain_once() == 3  # fmt: skip

    # The list answered what was not asked: 1, 2 and 3 are not taken for gone, but read.
    assert amo.reads[0] == -3
    assert sorted(amo.reads[1:]) == [1, 2, 3]


class BrokenBatches(EventProcessor):
    async def prefetch(self, hints: Sequence[EntityHint]) -> Prefetched:
        raise OSError("the cache could not be read")


async def test_a_batch_read_that_fails_of_itself_leaves_each_hint_to_read_alone(
    store: WatchedStore,
) -> None:
    clock = SystemClock()
    await HintInbox(store, clock).accept([*hint(1), *hint(2), *hint(3)])
    amo = RefusingAmo()
    amo.refusing = False
    drainer = InboxDrainer(store, BrokenBatches(store, cast("CrmReader", amo), clock), clock)

    assert await drainer.drain_once() == 3

    assert sorted(amo.reads) == [1, 2, 3]
    assert await store.count_due(INBOX_QUEUE) == 0
