"""Bot message events per chat, read like a queue by `wait_for_message`.

Every send, edit and deletion by the bot is recorded as a snapshot. A wait returns the first
snapshot after the last one it returned that matches, so a reply that arrived before the wait
began is still seen (no race between "act" and "wait").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sandbox.telegram.records import ChatMessage

MessagePredicate = Callable[[ChatMessage], bool]


class MessageWatch:
    def __init__(self) -> None:
        self._events: dict[int, list[ChatMessage]] = {}
        self._cursor: dict[int, int] = {}
        self._waiters: set[asyncio.Future[None]] = set()

    def record(self, message: ChatMessage) -> None:
        self._events.setdefault(message.chat_id, []).append(message)
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)

    def _match(self, chat_id: int, predicate: MessagePredicate | None) -> ChatMessage | None:
        events = self._events.get(chat_id, [])
        for index in range(self._cursor.get(chat_id, 0), len(events)):
            if predicate is None or predicate(events[index]):
                self._cursor[chat_id] = index + 1
                return events[index]
        return None

    async def next(
        self, chat_id: int, predicate: MessagePredicate | None, timeout_s: float
    ) -> ChatMessage:
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    found = self._match(chat_id, predicate)
                    if found is not None:
                        return found
                    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    self._waiters.add(waiter)
                    try:
                        await waiter
                    finally:
                        self._waiters.discard(waiter)
        except TimeoutError:
            seen = len(self._events.get(chat_id, []))
            raise TimeoutError(
                f"no matching bot message in chat {chat_id} within {timeout_s} s "
                f"({seen} bot message events in all)"
            ) from None
