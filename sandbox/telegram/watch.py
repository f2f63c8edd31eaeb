"""Bot message events per chat, read like a queue by `wait_for_message`.

Every send, edit and deletion by the bot is recorded as a snapshot. A wait returns the first
snapshot after the last one it returned that matches, so a reply that arrived before the wait
began is still seen (no race between "act" and "wait").
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.telegram.records import ChatMessage
from sandbox.watch import Watch

MessagePredicate = Callable[[ChatMessage], bool]


class MessageWatch:
    def __init__(self) -> None:
        self._watch: Watch[int, ChatMessage] = Watch("bot message")

    def record(self, message: ChatMessage) -> None:
        self._watch.record(message.chat_id, message)

    async def next(
        self, chat_id: int, predicate: MessagePredicate | None, timeout_s: float
    ) -> ChatMessage:
        return await self._watch.next(chat_id, predicate, timeout_s)
