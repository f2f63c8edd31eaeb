"""The outbox's attempt record costs one store call on a first send (plus its removal once the
send is done), and a send after an unconfirmed attempt still looks for that attempt's message."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import Card, ReplyFile, TextMessage
from bot.delivery import DeliveryError, Outbox, OutboxItem, OutboxSender
from bot.delivery.outbox import ATTEMPT_NS
from bot.store.sqlite import SqliteStore
from tests.e2e.helpers import FakeClock


class CountingStore(SqliteStore):
    """A real SQLite store that counts the calls on attempt records."""

    calls: Counter[str]

    async def get_doc(self, ns: str, key: str) -> str | None:
        self._count(ns, "get")
        return await super().get_doc(ns, key)

    async def put_doc(self, ns: str, key: str, value: str, *, ttl_s: float | None = None) -> None:
        self._count(ns, "put")
        await super().put_doc(ns, key, value, ttl_s=ttl_s)

    async def swap_doc(
        self, ns: str, key: str, expected: str | None, value: str | None, *,
        ttl_s: float | None = None,
    ) -> bool:  # fmt: skip
        self._count(ns, "swap")
        return await super().swap_doc(ns, key, expected, value, ttl_s=ttl_s)

    async def delete_doc(self, ns: str, key: str) -> None:
        self._count(ns, "delete")
        await super().delete_doc(ns, key)

    def _count(self, ns: str, call: str) -> None:
        if ns == ATTEMPT_NS:
            self.calls[call] += 1


class Chat:
    """A channel at the seam: keeps what is sent; ``lose_next`` loses one send's answer."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lose_next = False

    async def send(self, chat_id: str, card: Card, *, ref: str | None = None) -> str:
        self.sent.append(chat_id)
        if self.lose_next:
            self.lose_next = False
            raise DeliveryError("connection dropped")
        return str(len(self.sent))

    async def send_file(
        self, chat_id: str, caption: str, file: ReplyFile, *, ref: str | None = None
    ) -> str:
        return await self.send(chat_id, TextMessage(text=caption), ref=ref)

    async def find_sent(self, chat_id: str, ref: str, since: float) -> str | None:
        return None  # as Telegram: cannot read back

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    store = await CountingStore.open(str(tmp_path / "outbox.db"))
    store.calls = Counter()
    yield store
    await store.close()


async def nothing(item: OutboxItem, exc: DeliveryError) -> None:
    return None


async def test_a_first_send_reads_no_attempt_record_and_a_retry_reads_it(
    store: CountingStore,
) -> None:
    clock = FakeClock()
    outbox = Outbox(store, clock)
    chat = Chat()
    sender = OutboxSender("telegram", chat, None, store=store, outbox=outbox, clock=clock,
                          on_permanent_failure=nothing)  # fmt: skip
    await outbox.enqueue([OutboxItem(channel="telegram", chat_id="1", card=TextMessage(text="a"))])
    await sender.drain_once()
    assert chat.sent == ["1"]
    assert store.calls == Counter(swap=1, delete=1)

    store.calls.clear()
    chat.lose_next = True
    await outbox.enqueue([OutboxItem(channel="telegram", chat_id="2", card=TextMessage(text="b"))])
    await sender.drain_once()  # sent, answer lost: the attempt stays on record
    clock.advance(60)
    await sender.drain_once()  # the retry reads the record (and sends again: Telegram)
    assert chat.sent == ["1", "2", "2"]
    assert store.calls == Counter(swap=2, get=1, delete=1)
