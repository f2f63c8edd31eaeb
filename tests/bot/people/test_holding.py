"""Held messages released once: a release that dies after queueing the messages but before
completing its claims is done again when the claims run out, and queues nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from bot.core import TextMessage
from bot.crm import Directory
from bot.delivery import Outbox, OutboxItem, outbox_queue
from bot.people.holding import HeldItem, HeldMessages, TaskCards, held_queue
from bot.people.reach import Reach
from bot.store import CLAIM_LEASE_S, DueEntry, DueItem
from bot.store.sqlite import SqliteStore
from tests.e2e.helpers import FakeClock

PERSON = 7


class DyingStore(SqliteStore):
    """A real SQLite store; ``dying`` makes the next completion of a held entry raise, as if the
    process died there."""

    dying: bool = False

    async def complete_due(self, item: DueItem) -> bool:
        if self.dying and item.queue == held_queue(PERSON):
            self.dying = False
            raise ConnectionError("the process is gone")
        return await super().complete_due(item)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DyingStore]:
    store = await DyingStore.open(str(tmp_path / "held.db"))
    yield store
    await store.close()


async def test_a_release_done_again_after_dying_half_way_sends_each_message_once(
    store: DyingStore,
) -> None:
    clock = FakeClock()
    outbox = Outbox(store, clock)
    # Messages without a task: the release touches neither reach, the directory nor cards.
    held = HeldMessages(store, outbox, cast(Reach, None), cast(Directory, None),
                        cast(TaskCards, None), clock)  # fmt: skip
    items = [OutboxItem(channel="telegram", chat_id="42", recipient=PERSON,
                        card=TextMessage(text=f"alert {n}")) for n in range(3)]  # fmt: skip
    await store.put_due_many(held_queue(PERSON), [
        DueEntry(item_id=i.id, due_at=clock.now(), payload=HeldItem(item=i).model_dump_json())
        for i in items
    ])  # fmt: skip

    store.dying = True
    with pytest.raises(ConnectionError):
        await held.release(PERSON)
    # A sender delivers them meanwhile (a repeat would now be a second message, not a replace).
    sent = await store.claim_due(outbox_queue("telegram"), clock.now() + 1, 10, CLAIM_LEASE_S)
    assert len(sent) == 3
    for item in sent:
        await store.complete_due(item)
    clock.advance(CLAIM_LEASE_S + 1)  # the dead release's claims run out
    await held.release(PERSON)

    assert await store.count_due(held_queue(PERSON)) == 0
    assert await store.count_due(outbox_queue("telegram")) == 0
