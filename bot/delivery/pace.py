"""The messengers' limits as the senders keep them: a timeline per chat and one per bot in the
store, shared by every sender of every replica (outbox deliveries and replies alike)."""

from __future__ import annotations

import asyncio

from pydantic import Field

from bot.core import Value
from bot.store import Store


class ChannelLimits(Value):
    """Spacing of sends: per chat, per group chat, and for the whole bot.

    ``per_chat_burst``: how many messages a private chat that was quiet takes at once before
    the pace applies (a token bucket of that size, refilled every ``per_chat_s``); 1 is a
    strict gap. Without it, a card edited 0.4 s after a notice to the same person waits 0.6 s.
    """

    per_chat_s: float
    per_group_s: float
    global_s: float
    per_chat_burst: int = Field(default=1, ge=1)

    def tolerance_s(self, is_group: bool) -> float:
        """How far ahead of now a chat's timeline may be booked before a send waits."""
        return 0.0 if is_group else (self.per_chat_burst - 1) * self.per_chat_s


async def wait_turn(
    store: Store, channel: str, limits: ChannelLimits, chat_id: str, is_group: bool
) -> None:
    """Wait for this chat's next free moment, then the bot's, on timelines shared through the
    store by every sender of every replica.

    The chat's turn first, then the bot's: a message waiting for a busy chat must not hold a
    global slot that another chat could use. Each message books one gap on the chat's timeline
    and goes once the timeline is at most the chat's burst ahead of now (GCRA: a token bucket
    kept as one timestamp, so the store's one slot primitive serves both).
    """
    chat_gap = limits.per_group_s if is_group else limits.per_chat_s
    chat = f"{channel}:chat:{chat_id}"
    wait = await store.reserve_slot(chat, chat_gap) - limits.tolerance_s(is_group)
    if wait > 0:
        await asyncio.sleep(wait)
    wait = await store.reserve_slot(f"{channel}:all", limits.global_s)
    if wait > 0:
        await asyncio.sleep(wait)
        # The send moved later than the chat's slot: move the chat's next slot with it, or a
        # shorter global wait for the next message would bring the two under the chat's gap.
        await store.reserve_slot(chat, min(wait, chat_gap))


async def hold_chat(
    store: Store, channel: str, limits: ChannelLimits, chat_id: str, seconds: float
) -> None:
    """The channel said "retry after ``seconds``" for this chat: push the chat's shared timeline
    that far, so that no sender of any replica (replies included) tries it sooner (the burst
    the chat's pace tolerates is added, or the next send would go that much early)."""
    is_group = chat_id.startswith(("-", "@"))
    await store.reserve_slot(f"{channel}:chat:{chat_id}", seconds + limits.tolerance_s(is_group))
