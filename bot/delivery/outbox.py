"""The outbox: notifications are stored before they are sent, and a sender drains them per channel
under the channel's rate limits, recording where each message landed so every copy can be edited.

A crash between "stored" and "sent" leaves the item in the store's due index; its claim runs out
and it is sent after the restart, once (the claim hides it from every other sender meanwhile).

A crash (or a lost answer) between "sent" and "done" is the one window left: the attempt is
recorded before the call, so a later delivery of the same item knows one may have gone out. Where
the channel can be read back (Slack: the item's id in the message metadata, found with
conversations.history) it looks before sending again; where it cannot (Telegram) it sends again.

Just over 400 lines: the item, the queue and its sender share the attempt record and the
references, and the pace they keep is already apart (``pace.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Protocol

from pydantic import Field

from bot.core import Card, Channel, Clock, DeliveryOp, ReplyFile, SendOutcome, TextMessage, Value
from bot.delivery.pace import ChannelLimits, wait_turn
from bot.reports import ActivityLog, Notice
from bot.store import (
    CLAIM_LEASE_S,
    ClaimKeeper,
    DueEntry,
    DueItem,
    GroupedOnce,
    OncePut,
    Store,
)

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (2.0, 10.0, 60.0, 300.0, 900.0)
MAX_ATTEMPTS = 8
REFS_NS = "refs"
# "A send of this item began at <time>": kept past every retry of the item.
ATTEMPT_NS = "send_attempt"
ATTEMPT_TTL_S = 2 * 24 * 3600.0
# How much earlier than the recorded start a message may be stamped (clocks differ).
ATTEMPT_SKEW_S = 60.0


class DeliveryError(Exception):
    """A channel refused a message. ``permanent``: this message will never go through;
    ``gone``: nor will any other to this chat (bot blocked, account deactivated, chat deleted),
    so its link is paused; ``retry_after``: the channel said when to try again (a rate limit)."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        gone: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or gone
        self.gone = gone
        self.retry_after = retry_after


class Notifier(Protocol):
    """One channel's way to show cards (``integrations/<channel>``)."""

    async def send(self, chat_id: str, card: Card, *, ref: str | None = None) -> str:
        """Send, tagged with ``ref`` where the channel keeps hidden data on a message; returns
        the new message's id. Raises DeliveryError."""
        ...

    async def send_file(
        self, chat_id: str, caption: str, file: ReplyFile, *, ref: str | None = None
    ) -> str:
        """Send a file (a photo when ``file.photo``) with ``caption`` under it; returns the new
        message's id. Raises DeliveryError."""
        ...

    async def find_sent(self, chat_id: str, ref: str, since: float) -> str | None:
        """The id of a message tagged ``ref`` sent at ``since`` or later, None if none is seen
        (always None for a channel that cannot read its messages back). Raises
        DeliveryError."""
        ...

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        """Replace a sent message; "not modified" is success. Raises DeliveryError."""
        ...


def ordered_id() -> str:
    """32 hex characters like a uuid4's, but in the order they were made: the nanosecond clock,
    then 64 random bits. SQLite keeps the outbox keyed by it, and a key that grows at the
    index's right edge writes a burst's cards faster than one at random places (500 cards of
    1 KB beside 20,000 queued: 72 ms with uuid4 keys, 16 ms with these)."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


class OutboxItem(Value):
    id: str = Field(default_factory=ordered_id)
    channel: Channel
    chat_id: str
    is_group: bool = False
    recipient: int | None = None  # the amoCRM user it is for (None: a shared chat)
    op: DeliveryOp = "send"
    message_id: str | None = None  # for op="edit"
    subject: str | None = None  # "task:123": what the message is about, so it can be edited later
    notice: Notice | None = None  # a reminder or alert to a person: logged for /report once sent
    deadline: int | None = None  # a reminder's: the task's deadline it reminded of (for /report)
    card: Card
    # A file sent with the card's text as its caption (a scheduled report's chart); the card is
    # then a TextMessage.
    file: ReplyFile | None = None
    attempt: int = 0


class MessageRef(Value):
    channel: Channel
    chat_id: str
    message_id: str
    recipient: int | None = None


def outbox_queue(channel: Channel) -> str:
    return f"outbox:{channel}"


class Outbox:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        # Once-puts of concurrent senders (a burst of reminders) share a commit.
        self._once = GroupedOnce(store)
        self._clock = clock
        self._wake: dict[str, asyncio.Event] = {}

    async def enqueue(
        self, items: Sequence[OutboxItem], *, once: str | None = None, once_ttl_s: float = 0
    ) -> bool:
        """Queue the items; False if none was. With ``once``, a key marked in the same step as
        each channel's items are queued: a repeat with the same key (work redone after a crash)
        queues nothing."""
        queued = False
        for channel, entries in self._entries(items).items():
            if once is None:
                await self._store.put_due_many(outbox_queue(channel), entries)
            elif not await self._once.put_due_once(
                outbox_queue(channel), entries, f"{once}:{channel}", once_ttl_s
            ):
                continue
            queued = True
            self.woken([channel])
        return queued

    def once_puts(
        self, items: Sequence[OutboxItem], once: str, once_ttl_s: float
    ) -> list[OncePut]:
        """``enqueue``'s writes with ``once``, for a caller that writes many at once (a burst of
        reminders, ``Store.put_due_once_many``) and then calls ``woken`` with the channels of
        those that were written."""
        return [
            OncePut(queue=outbox_queue(channel), entries=tuple(entries), key=f"{once}:{channel}",
                    ttl_s=once_ttl_s)
            for channel, entries in self._entries(items).items()
        ]  # fmt: skip

    def woken(self, channels: Iterable[str]) -> None:
        """Wake this process's senders of ``channels``: something was queued for them."""
        for channel in channels:
            self.wake_event(channel).set()

    def _entries(self, items: Sequence[OutboxItem]) -> dict[Channel, list[DueEntry]]:
        now = self._clock.now()
        by_channel: dict[Channel, list[DueEntry]] = {}
        last = len(items) - 1
        for n, item in enumerate(items):
            # A microsecond apart and all due now: claims go earliest first, so cards keep the
            # order they were queued in (the tasks of /tasks by deadline).
            due_at = now - (last - n) * 1e-6
            by_channel.setdefault(item.channel, []).append(
                DueEntry(item_id=item.id, due_at=due_at, payload=item.model_dump_json())
            )
        return by_channel

    def wake_event(self, channel: str) -> asyncio.Event:
        return self._wake.setdefault(channel, asyncio.Event())

    async def wait(self, channel: str, timeout_s: float) -> None:
        """Return when this process queued something for ``channel``, or after ``timeout_s``."""
        wake = self.wake_event(channel)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout_s)
        wake.clear()

    async def refs(self, subject: str) -> list[MessageRef]:
        return [
            MessageRef.model_validate_json(v)
            for v in await self._store.read_list(REFS_NS, subject)
        ]

    async def add_ref(self, subject: str, ref: MessageRef) -> None:
        await self._store.append(REFS_NS, subject, ref.model_dump_json(), max_len=50)

    async def edit_everywhere(
        self, subject: str, card_for: Callable[[MessageRef], Awaitable[Card | None]]
    ) -> int:
        """Queue an edit of every delivered copy about ``subject``; returns how many."""
        items = []
        for ref in await self.refs(subject):
            card = await card_for(ref)
            if card is None:
                continue
            items.append(OutboxItem(
                channel=ref.channel, chat_id=ref.chat_id, recipient=ref.recipient, op="edit",
                message_id=ref.message_id, subject=subject, card=card,
            ))  # fmt: skip
        await self.enqueue(items)
        return len(items)


PermanentFailure = Callable[[OutboxItem, DeliveryError], Awaitable[None]]


@dataclass(eq=False, slots=True)
class OutboxSender:
    """Drains one channel's outbox: paced, retried, and every delivery recorded.

    ``limits=None``: the notifier paces itself (Telegram paces every call of its bot, replies
    to commands included, so that nothing shares a chat's budget unseen).
    """

    channel: Channel
    notifier: Notifier
    limits: ChannelLimits | None
    _: KW_ONLY
    store: Store
    outbox: Outbox
    clock: Clock
    on_permanent_failure: PermanentFailure
    activity: ActivityLog | None = None
    batch: int = 60
    spread_s: float = 1.0
    on_outcome: Callable[[Channel, SendOutcome], None] | None = None
    delivered: int = field(default=0, init=False)
    _in_flight: set[asyncio.Future[list[None]]] = field(default_factory=set, init=False)
    _deliveries: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _latest: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)  # per chat
    _full: bool = field(default=False, init=False)

    @property
    def _gap_s(self) -> float:
        # How far apart a chat's queued messages are put back (its pace, when the sender paces).
        return self.limits.per_chat_s if self.limits is not None else self.spread_s

    async def drain_once(self) -> int:
        """Send what is due now and wait for those deliveries; returns how many items were
        claimed."""
        claimed, batch = await self._start()
        # A stop cancels the caller, not the deliveries under way: one cancelled between
        # "sent" and "recorded" would leave its message unrecorded (never edited) and send it
        # again once the claim runs out. ``finish`` waits for them.
        if batch is not None:
            await asyncio.shield(batch)
        return claimed

    async def pump(self) -> int:
        """Start sending what is due now, without waiting for the deliveries: the drain loop's
        step, so that a message waiting for its chat's turn holds up no message to another
        chat queued meanwhile. Returns how many items were claimed."""
        claimed, _ = await self._start()
        return claimed

    async def _start(self) -> tuple[int, asyncio.Future[list[None]] | None]:
        now = self.clock.now()
        queue = outbox_queue(self.channel)
        room = self.batch - len(self._deliveries)
        if room <= 0:
            self._full = True  # the loop waits; the next delivery to end wakes it
            return 0, None
        items = await self.store.claim_due(queue, now, room, CLAIM_LEASE_S)
        # One message per chat per round: a chat's second message would only wait out the
        # chat's pace while holding a place another chat could use. The rest go back into the
        # index, due when their chat's turn comes, in their order.
        first: list[tuple[DueItem, str]] = []
        ahead_of: dict[str, int] = {}
        for due in items:
            chat = OutboxItem.model_validate_json(due.payload).chat_id
            ahead = ahead_of.get(chat, 0)
            ahead_of[chat] = ahead + 1
            if ahead == 0:
                first.append((due, chat))
            else:
                later = now + ahead * self._gap_s
                await self.store.put_due(queue, due.item_id, later, due.payload)
        if not first:
            return len(items), None
        # The claims are renewed until the deliveries end (also past a stop, see ``finish``):
        # however long a message waits for its chat's turn, no other sender takes it over.
        keeper = ClaimKeeper(self.store, [due for due, _ in first], CLAIM_LEASE_S, self.clock.now)
        keeper.start()
        batch = asyncio.gather(*(self._in_turn(due, chat, keeper) for due, chat in first))
        self._in_flight.add(batch)
        batch.add_done_callback(self._in_flight.discard)
        batch.add_done_callback(lambda _: keeper.stop())
        return len(items), batch

    def _in_turn(self, due: DueItem, chat: str, keeper: ClaimKeeper) -> asyncio.Task[None]:
        """Deliver ``due`` once the delivery to the same chat started by an earlier round (if
        one is still under way) has ended, so that a chat's messages keep their order."""
        previous = self._latest.get(chat)

        async def deliver() -> None:
            if previous is not None:
                await asyncio.wait({previous})  # its outcome is its own; the order is ours
            await self._deliver(due, keeper)

        task = asyncio.ensure_future(deliver())
        self._latest[chat] = task
        self._deliveries.add(task)

        def ended(done: asyncio.Task[None]) -> None:
            self._deliveries.discard(done)
            if self._latest.get(chat) is done:
                del self._latest[chat]
            if self._full:
                self._full = False
                self.outbox.wake_event(self.channel).set()

        task.add_done_callback(ended)
        return task

    async def finish(self, timeout_s: float = 10.0) -> None:
        """Let the deliveries under way complete (called on stop, after the drain loop)."""
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=timeout_s)
        for batch in pending:  # still unsent: their claims run out and they go after a restart
            batch.cancel()

    async def wait(self, timeout_s: float) -> None:
        await self.outbox.wait(self.channel, timeout_s)

    async def _deliver(self, due: DueItem, keeper: ClaimKeeper) -> None:
        item = OutboxItem.model_validate_json(due.payload)
        if self.limits is not None:
            await wait_turn(self.store, self.channel, self.limits, item.chat_id, item.is_group)
        if not keeper.holds(due):  # stalled past the lease: another sender has it now
            log.warning("%s: lost the claim on %s to another sender", self.channel, item.id)
            return
        sent_at: float | None = None  # set when this delivery is a new message
        try:
            if item.op == "edit" and item.message_id is not None:
                await self.notifier.edit(item.chat_id, item.message_id, item.card)
            else:
                # The moment the send began: the message is in the chat no sooner than this.
                sent_at = self.clock.now()
                message_id = await self._send_once(item, sent_at)
                if item.subject is not None:
                    await self.outbox.add_ref(item.subject, MessageRef(
                        channel=self.channel, chat_id=item.chat_id, message_id=message_id,
                        recipient=item.recipient,
                    ))  # fmt: skip
        except DeliveryError as exc:
            await self._failed(due, item, exc)
            return
        except Exception as exc:
            # A bug in a notifier must not lose the message: it is retried like a network error.
            log.exception("%s notifier failed on %s", self.channel, item.id)
            await self._failed(due, item, DeliveryError(type(exc).__name__))
            return
        self.delivered += 1
        self._outcome("ok")
        await self.store.complete_due(due)
        if sent_at is not None:
            await self.store.delete_doc(ATTEMPT_NS, item.id)
            await self._log_sent(item, sent_at)

    async def _send_once(self, item: OutboxItem, now: float) -> str:
        """Send the item, unless an earlier attempt's message is found already there."""
        # One call on a first attempt: the record is made only where none is, and read only
        # where one is (an earlier attempt went unconfirmed).
        first = await self.store.swap_doc(ATTEMPT_NS, item.id, None, repr(now),
                                          ttl_s=ATTEMPT_TTL_S)  # fmt: skip
        began = None if first else await self.store.get_doc(ATTEMPT_NS, item.id)
        if began is not None:
            # An attempt went unconfirmed (a crash, a lost answer): it may be in the chat.
            found = await self.notifier.find_sent(
                item.chat_id, item.id, float(began) - ATTEMPT_SKEW_S
            )
            if found is not None:
                log.info("%s: %s was sent already; not sending again", self.channel, item.id)
                return found
            log.info("%s: %s may have been sent; sending again", self.channel, item.id)
        if item.file is not None:
            caption = item.card.text if isinstance(item.card, TextMessage) else ""
            return await self.notifier.send_file(item.chat_id, caption, item.file, ref=item.id)
        return await self.notifier.send(item.chat_id, item.card, ref=item.id)

    async def _log_sent(self, item: OutboxItem, at: float) -> None:
        if self.activity is None or item.notice is None:
            return
        if item.recipient is None or item.subject is None:
            return
        try:
            await self.activity.sent(
                item.recipient, self.channel, item.subject, item.notice, at=at,
                deadline=item.deadline,
            )  # fmt: skip
        except Exception:
            # The message is out; a line missing from a report beats failing the delivery.
            log.exception("%s: delivery of %s not logged", self.channel, item.id)

    def _outcome(self, outcome: SendOutcome) -> None:
        if self.on_outcome is not None:
            self.on_outcome(self.channel, outcome)

    async def _failed(self, due: DueItem, item: OutboxItem, exc: DeliveryError) -> None:
        queue = outbox_queue(self.channel)
        if exc.permanent or item.attempt + 1 >= MAX_ATTEMPTS:
            self._outcome("failed")
        else:
            self._outcome("retried" if exc.retry_after is None else "rate_limited")
        if exc.permanent:
            log.warning("%s: %s to %s failed for good: %s", self.channel, item.op, item.chat_id,
                        exc.reason)  # fmt: skip
            await self.store.complete_due(due)
            await self.on_permanent_failure(item, exc)
            return
        if item.attempt + 1 >= MAX_ATTEMPTS:
            log.error("%s: giving up on %s after %d attempts: %s", self.channel, item.id,
                      item.attempt + 1, exc.reason)  # fmt: skip
            await self.store.complete_due(due)
            return
        delay = exc.retry_after
        if delay is None:
            delay = RETRY_DELAYS_S[min(item.attempt, len(RETRY_DELAYS_S) - 1)]
        retry = item.model_copy(update={"attempt": item.attempt + 1})
        log.info("%s: %s to %s retried in %.1fs: %s", self.channel, item.op, item.chat_id,
                 delay, exc.reason)  # fmt: skip
        await self.store.put_due(queue, item.id, self.clock.now() + delay,
                                  retry.model_dump_json())  # fmt: skip
