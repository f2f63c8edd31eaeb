"""Messages that wait for a person's quiet hours or mute to end, then go out in the order they
came.

Each person's waiting messages are a due queue of their own; a release marker per person, due
when the hold ends, tells the release job whose to send. Claims make a release happen once
whatever the number of replicas, and each item is queued in the outbox once, so a release that
dies half-way and is done again sends nothing twice. Cards about a task are drawn again as the
task is at release ("today 23:00" said last night is "24.11 23:00" this morning); a task's
reminders come once per task, and not at all if it was completed or handed to someone else
meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core import Clock, Deal, FailureNote, Reader, Task, TaskCard, User, Value
from bot.crm import Directory
from bot.delivery import Outbox, OutboxItem
from bot.people.reach import Reach
from bot.store import CLAIM_LEASE_S, DueEntry, DueItem, OncePut, Store, keep_claims, work_due

log = logging.getLogger(__name__)

RELEASE_QUEUE = "held-release"
RETRY_S = 120.0  # a release that failed is tried again after this
BATCH = 200
RELEASED_TTL_S = 2 * 86400.0  # a released item's once-key: far past any claim's return


def held_queue(amo_user_id: int) -> str:
    return f"held:{amo_user_id}"


class TaskCards(Protocol):
    """Draws a task's card as the task is now (the task package's card factory); a port, since
    held messages sit below the packages that draw cards."""

    async def task_card(
        self,
        task: Task,
        reader: Reader,
        now: int,
        *,
        deal: Deal | None = ...,
        actor: User | None = ...,
        heading: str | None = ...,
    ) -> TaskCard: ...


class HeldItem(Value):
    item: OutboxItem
    task_id: int | None = None  # the card is about this task: drawn again at release
    reminder: bool = False  # a reminder (not an alert): once per task, only if still to do
    while_open: bool = False  # kept with its heading, but only if the task is still to do


@dataclass(frozen=True, slots=True, eq=False)
class HeldMessages:
    _store: Store
    _outbox: Outbox
    _reach: Reach
    _directory: Directory
    _cards: TaskCards
    _clock: Clock
    # The release loop's failures, said once while amoCRM is down rather than per person.
    _failures: FailureNote = field(
        default_factory=lambda: FailureNote(log, "releasing held messages")
    )

    async def send(
        self,
        amo_user_id: int,
        items: Sequence[OutboxItem],
        *,
        task_id: int | None = None,
        reminder: bool = False,
        while_open: bool = False,
        once: str | None = None,
        once_ttl_s: float = 0,
    ) -> bool:
        """Queue ``items`` for the person now, or keep them until their hold is over. With
        ``once``, queued or kept at most once for that key (see ``Outbox.enqueue``); False if
        nothing was (no items, or all of them were already). ``while_open``: a kept card about
        ``task_id`` is dropped at release if the task is no longer the person's to do."""
        if not items:
            return False
        until = await self._reach.held_until(amo_user_id)
        return await self.send_held_until(
            amo_user_id, items, until, task_id=task_id, reminder=reminder, while_open=while_open,
            once=once, once_ttl_s=once_ttl_s,
        )  # fmt: skip

    async def send_held_until(
        self,
        amo_user_id: int,
        items: Sequence[OutboxItem],
        until: int | None,
        *,
        task_id: int | None = None,
        reminder: bool = False,
        while_open: bool = False,
        once: str | None = None,
        once_ttl_s: float = 0,
    ) -> bool:
        """``send`` with the person's hold already read (``Reach.held_until``; None: none), by a
        caller that sends many messages to one person at a moment (a burst of reminders)."""
        if not items:
            return False
        if until is None:
            return await self._outbox.enqueue(items, once=once, once_ttl_s=once_ttl_s)
        # The release first: a crash before the items leaves a release with nothing to send.
        await self._store.put_due(RELEASE_QUEUE, str(amo_user_id), until)
        entries = self._held_entries(items, task_id, reminder, while_open)
        if once is None:
            await self._store.put_due_many(held_queue(amo_user_id), entries)
            return True
        return await self._store.put_due_once(
            held_queue(amo_user_id), entries, f"{once}:held", once_ttl_s
        )

    def held_puts(
        self,
        amo_user_id: int,
        items: Sequence[OutboxItem],
        until: int,
        *,
        task_id: int | None,
        reminder: bool,
        once: str,
        once_ttl_s: float,
    ) -> tuple[DueEntry, OncePut]:
        """``send_held_until``'s writes for a person on hold, for a caller that writes many at
        once (a burst of reminders): the release marker (``RELEASE_QUEUE``; written first, as
        there) and the once-put of the kept items."""
        entries = self._held_entries(items, task_id, reminder, while_open=False)
        put = OncePut(queue=held_queue(amo_user_id), entries=tuple(entries),
                      key=f"{once}:held", ttl_s=once_ttl_s)  # fmt: skip
        return DueEntry(item_id=str(amo_user_id), due_at=until), put

    async def put_releases(self, releases: Sequence[DueEntry]) -> None:
        """Write the release markers of ``held_puts`` (before their once-puts)."""
        if releases:
            await self._store.put_due_many(RELEASE_QUEUE, releases)

    def _held_entries(
        self, items: Sequence[OutboxItem], task_id: int | None, reminder: bool, while_open: bool
    ) -> list[DueEntry]:
        now = self._clock.now()
        last = len(items) - 1
        return [
            # Due as they came, a microsecond apart: released in this order.
            DueEntry(item_id=item.id, due_at=now - (last - n) * 1e-6,
                     payload=HeldItem(item=item, task_id=task_id, reminder=reminder,
                                      while_open=while_open).model_dump_json())
            for n, item in enumerate(items)
        ]  # fmt: skip

    async def release_due(self) -> int:
        """The job: send what waited for those whose hold is over; how many people's."""
        return await work_due(
            self._store, RELEASE_QUEUE, self._clock.now(), BATCH, RETRY_S,
            self._release_marker, clock=self._clock.now, failures=self._failures,
        )  # fmt: skip

    async def _release_marker(self, marker: DueItem) -> None:
        amo_user_id = int(marker.item_id)
        until = await self._reach.held_until(amo_user_id)
        if until is not None:  # muted for longer since, or quiet hours changed
            await self._store.put_due(RELEASE_QUEUE, marker.item_id, until)
            return
        await self.release(amo_user_id)
        await self._store.complete_due(marker)

    async def release(self, amo_user_id: int) -> int:
        """Send everything kept for the person now (their hold is over, or they lifted it);
        returns how many messages went."""
        now = self._clock.now()
        claimed: list[DueItem] = []
        while batch := await self._store.claim_due(
            held_queue(amo_user_id), now + 1, BATCH, CLAIM_LEASE_S
        ):
            claimed += batch
        async with keep_claims(self._store, claimed, CLAIM_LEASE_S, self._clock.now):
            return await self._send_held(claimed)

    async def _send_held(self, claimed: list[DueItem]) -> int:
        held = [HeldItem.model_validate_json(c.payload) for c in claimed]
        # One reminder per task and messenger, the latest; the rest as they came.
        latest = {(h.task_id, h.item.channel): n for n, h in enumerate(held) if h.reminder}
        items = []
        for n, h in enumerate(held):
            if h.task_id is None:
                items.append(h.item)
            elif not h.reminder or latest[(h.task_id, h.item.channel)] == n:
                fresh = await self._as_now(h)
                items += [fresh] if fresh is not None else []
        # Each queued once (its outbox item's id is kept in the held entry): a release that dies
        # before completing its claims is released again, and repeats none of what it queued.
        for item in items:
            await self._outbox.enqueue(
                [item], once=f"released:{item.id}", once_ttl_s=RELEASED_TTL_S
            )
        for c in claimed:
            await self._store.complete_due(c)
        return len(items)

    async def _as_now(self, held: HeldItem) -> OutboxItem | None:
        """A held card about a task, drawn again from the task as it is now (an alert keeps its
        heading); None for a reminder no longer for this person (completed, deleted, handed
        over)."""
        item = held.item
        assert held.task_id is not None
        assert item.recipient is not None
        cached = await self._store.get_task(held.task_id)
        task = cached.value if cached else None
        gone = task is None or task.is_completed or task.responsible_user_id != item.recipient
        if (held.reminder or held.while_open) and gone:
            return None
        if task is None or not isinstance(item.card, TaskCard) or item.card.outcome is not None:
            return item  # an alert about what happened: still true
        deal_cached = await self._store.get_deal(task.deal_id) if task.deal_id else None
        card = await self._cards.task_card(
            task,
            await self._reach.reader(item.recipient),
            int(self._clock.now()),
            deal=deal_cached.value if deal_cached else None,
            actor=await self._directory.user(item.recipient),
            heading=None if held.reminder else item.card.heading,
        )
        return item.model_copy(update={"card": card})
