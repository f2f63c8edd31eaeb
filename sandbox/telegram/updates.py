"""The bot's pending updates, shared by getUpdates and webhook delivery, and the long poll."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sandbox.telegram.records import JsonDict

# Every update kind; without allowed_updates Telegram sends all but these three.
UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_ALLOWED = UPDATE_KINDS - {"chat_member", "message_reaction", "message_reaction_count"}

PollEnd = Literal["ready", "timeout", "conflict", "webhook", "closed"]


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    update_id: int
    kind: str
    payload: JsonDict

    def to_json(self) -> JsonDict:
        return {"update_id": self.update_id, self.kind: self.payload}


class UpdateQueue:
    """Updates wait here until confirmed (getUpdates offset) or delivered (webhook)."""

    def __init__(self, first_update_id: int = 1) -> None:
        self._next_id = first_update_id
        self._pending: deque[PendingUpdate] = deque()
        self._listeners: set[Callable[[], None]] = set()
        self.allowed: frozenset[str] = DEFAULT_ALLOWED

    def __len__(self) -> int:
        return len(self._pending)

    def set_allowed(self, kinds: Iterable[str] | None) -> None:
        """None keeps the previous choice; an empty list restores the default, as in the API."""
        if kinds is None:
            return
        chosen = frozenset(kinds) & UPDATE_KINDS
        self.allowed = chosen or DEFAULT_ALLOWED

    def push(self, kind: str, payload: JsonDict) -> int | None:
        """Queue an update; None when allowed_updates filters it out (it is never created)."""
        if kind not in self.allowed:
            return None
        update = PendingUpdate(self._next_id, kind, payload)
        self._next_id += 1
        self._pending.append(update)
        for listener in list(self._listeners):
            listener()
        return update.update_id

    def confirm(self, offset: int) -> None:
        """Forget every update below `offset`; a negative offset keeps only the last -offset."""
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
            return
        while self._pending and self._pending[0].update_id < offset:
            self._pending.popleft()

    def head(self, limit: int) -> list[PendingUpdate]:
        return [update for _, update in zip(range(limit), self._pending, strict=False)]

    def drop(self, update_id: int) -> None:
        if self._pending and self._pending[0].update_id == update_id:
            self._pending.popleft()

    def clear(self) -> None:
        self._pending.clear()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` on every new update; returns the unsubscribe function."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)


class LongPoll:
    """At most one getUpdates waits; a newer one ends the older with a conflict, as Telegram's
    server does, and setWebhook ends it too."""

    def __init__(self, queue: UpdateQueue) -> None:
        self._queue = queue
        self._waiting: asyncio.Future[PollEnd] | None = None

    @property
    def waiting(self) -> bool:
        return self._waiting is not None and not self._waiting.done()

    async def wait(self, timeout_s: float) -> PollEnd:
        self.end("conflict")
        waiting: asyncio.Future[PollEnd] = asyncio.get_running_loop().create_future()
        self._waiting = waiting

        def wake() -> None:
            if not waiting.done():
                waiting.set_result("ready")

        unsubscribe = self._queue.subscribe(wake)
        try:
            return await asyncio.wait_for(waiting, timeout_s)
        except TimeoutError:
            return "timeout"
        finally:
            unsubscribe()
            if self._waiting is waiting:
                self._waiting = None

    def end(self, reason: PollEnd) -> None:
        """End the waiting poll, if any, with `reason`."""
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.set_result(reason)
        self._waiting = None
