"""Working through a due queue: keeping claims alive while the work goes on, and the loop the
reminder, held-message and settling jobs share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.core import FailureNote
from bot.store.protocol import DueItem, Store

# A loop that sleeps until its queue's next item is due sleeps at least this long, so that a
# clock quirk (an item due "now" that a claim does not see yet) cannot make it spin.
SHORTEST_WAIT_S = 0.005

# A claim's lease is short so that a dead worker's items come back within seconds; a live worker
# renews it several times per lease, so a slow send or a long batch never loses its claim.
CLAIM_LEASE_S = 10.0
RENEWALS_PER_LEASE = 4

log = logging.getLogger(__name__)


class ClaimKeeper:
    """Renews the claims of ``items`` every ``lease_s / RENEWALS_PER_LEASE`` until stopped.

    Use ``keep_claims`` around the work, or ``start()`` and ``stop()`` when the work outlives
    the caller (the outbox's deliveries finish after a stop). ``holds`` tells whether an item's
    claim was still ours at the last renewal: a worker checks it just before an action that must
    happen once, so that a worker whose claim was taken over (it stalled past its lease) backs
    off instead of acting a second time.
    """

    def __init__(
        self,
        store: Store,
        items: Sequence[DueItem],
        lease_s: float,
        now: Callable[[], float],
    ) -> None:
        self._store = store
        self._items = {item.item_id: item for item in items}
        self._lease_s = lease_s
        self._now = now
        self._lost: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._failing = False  # the store refused a renewal: said once, and its end once

    def holds(self, item: DueItem) -> bool:
        return item.item_id not in self._lost

    def release(self, item: DueItem) -> None:
        """Stop renewing ``item`` (its work is over; it was completed, put again or given up)."""
        self._items.pop(item.item_id, None)

    def start(self) -> None:
        if self._task is None and self._items:
            self._task = asyncio.create_task(self._renew(), name="claim-keeper")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """``stop`` and wait until no renewal is under way."""
        self.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _renew(self) -> None:
        while self._items:
            await asyncio.sleep(self._lease_s / RENEWALS_PER_LEASE)
            items = list(self._items.values())
            try:
                held = await self._store.extend_claims(items, self._now() + self._lease_s)
            except Exception as exc:  # the store is down: nobody else can claim them either
                if not self._failing:  # once per outage, not every renewal of it
                    log.warning("renewing %d claim(s) failed: %r; said once until it works",
                                len(items), exc)  # fmt: skip
                self._failing = True
                continue
            if self._failing:
                self._failing = False
                log.info("renewing claims works again")
            for item in items:
                if item.item_id not in held:  # done, put again, or taken over
                    self._lost.add(item.item_id)
                    self._items.pop(item.item_id, None)


@asynccontextmanager
async def keep_claims(
    store: Store, items: Sequence[DueItem], lease_s: float, now: Callable[[], float]
) -> AsyncIterator[ClaimKeeper]:
    """A started ``ClaimKeeper`` for the block (closed after it, however it ends)."""
    keeper = ClaimKeeper(store, items, lease_s, now)
    keeper.start()
    try:
        yield keeper
    finally:
        await keeper.close()


async def work_due(
    store: Store,
    queue: str,
    now: float,
    limit: int,
    retry_s: float,
    work: Callable[[DueItem], Awaitable[None]],
    *,
    clock: Callable[[], float],
    failures: FailureNote,
) -> int:
    """Claim up to ``limit`` items of ``queue`` due by ``now`` and ``work`` each, keeping the
    claims alive meanwhile (renewed by ``clock``'s time); returns how many were claimed. One that
    fails is noted in ``failures`` (the caller's, kept across calls, so that an amoCRM outage is
    said once, not per item and tick) and left claimed for ``retry_s``: it comes back then and is
    tried again."""
    items = await store.claim_due(queue, now, limit, CLAIM_LEASE_S)
    failed = False
    async with keep_claims(store, items, CLAIM_LEASE_S, clock) as keeper:
        for item in items:
            try:
                await work(item)
            except Exception as exc:
                failed = True
                failures.failed(exc, item.item_id)
                keeper.release(item)
                # A renewal already under way may bring it back sooner: only a retry sooner.
                # If the store fails here too, the claim runs out after the lease.
                with contextlib.suppress(Exception):
                    await store.extend_claims([item], clock() + retry_s)
            else:
                keeper.release(item)
    if items and not failed:
        failures.worked()
    return len(items)


# What a batch's work says of the items it could not do: each with why.
Failed = Sequence[tuple[DueItem, Exception]]


async def work_due_together(
    store: Store,
    queue: str,
    now: float,
    limit: int,
    retry_s: float,
    work: Callable[[Sequence[DueItem]], Awaitable[Failed]],
    *,
    clock: Callable[[], float],
    failures: FailureNote,
) -> int:
    """``work_due`` for work that does a claim's items together, so that their writes go in a
    few statements rather than a few each (a burst of reminders: bench/scheduler.py). ``work``
    completes or puts again each item it did, and returns the ones it could not, each with its
    error: those are noted and left claimed for ``retry_s``. If ``work`` itself fails, all are
    (its writes are idempotent by design: once-keys, puts that replace)."""
    items = await store.claim_due(queue, now, limit, CLAIM_LEASE_S)
    if not items:
        return 0
    async with keep_claims(store, items, CLAIM_LEASE_S, clock) as keeper:
        try:
            failed = await work(items)
        except Exception as exc:
            failures.failed(exc, f"{len(items)} item(s)")
            failed = [(item, exc) for item in items]
        else:
            for item, why in failed:
                failures.failed(why, item.item_id)
        for item in items:
            keeper.release(item)
        if failed:
            with contextlib.suppress(Exception):  # else the claims run out after the lease
                await store.extend_claims([item for item, _ in failed], clock() + retry_s)
    if not failed:
        failures.worked()
    return len(items)


P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Drawn(Generic[P]):
    """An item claimed before its moment, with what was prepared for it meanwhile."""

    item: DueItem
    prepared: P
    keeper: ClaimKeeper


class ClaimedAhead(Generic[P]):
    """Items of ``queue`` claimed up to ``ahead_s`` before they are due and prepared meanwhile,
    so that what is left at their moment is only their writes: a burst of reminders due in one
    second is drawn in the seconds before it (bench/scheduler.py).

    The claims are renewed until the items are taken. An item put again or cancelled meanwhile
    (its task changed) loses its claim, and ``still_ours`` drops what was prepared for it: the
    item comes back, or not, as a new entry. A crash loses nothing (the claims run out) and
    ``hand_back`` on a stop gives them back, due at their moments. At most ``most`` items are
    held."""

    def __init__(
        self,
        store: Store,
        queue: str,
        *,
        ahead_s: float,
        most: int,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._queue = queue
        self.ahead_s = ahead_s
        self._most = most
        self._clock = clock
        self._held: list[Drawn[P]] = []  # by due time

    @property
    def room(self) -> int:
        return self._most - len(self._held)

    async def claim(self, now: float, limit: int) -> list[DueItem]:
        """Claim up to ``limit`` items due by ``now + ahead_s`` (at most ``room``); the caller
        prepares them and gives them to ``hold``, or completes or retries them itself."""
        return await self._store.claim_due(
            self._queue, now + self.ahead_s, min(limit, self.room), CLAIM_LEASE_S
        )

    def hold(self, drawn: Sequence[tuple[DueItem, P]]) -> None:
        if not drawn:
            return
        keeper = ClaimKeeper(self._store, [item for item, _ in drawn], CLAIM_LEASE_S, self._clock)
        keeper.start()
        self._held += [Drawn(item, prepared, keeper) for item, prepared in drawn]
        self._held.sort(key=lambda d: d.item.due_at)

    def take_due(self, now: float) -> list[Drawn[P]]:
        """The held items due by ``now``, no longer held: before working one, the caller asks
        ``still_ours`` (in parts, to start the first writes sooner)."""
        n = next((i for i, d in enumerate(self._held) if d.item.due_at > now), len(self._held))
        due, self._held = self._held[:n], self._held[n:]
        for d in due:
            d.keeper.release(d.item)
        return due

    async def still_ours(self, drawn: Sequence[Drawn[P]]) -> list[Drawn[P]]:
        """Those of ``drawn`` whose claims are still ours, asked of the store now (not from the
        last renewal) and kept for one more lease, time enough for the caller's writes: their
        claims are then the caller's to complete or replace, as after ``claim_due``. The
        others were put again or cancelled meanwhile: what was drawn for them is dropped."""
        until = self._clock() + CLAIM_LEASE_S
        ours = await self._store.extend_claims([d.item for d in drawn], until)
        return [d for d in drawn if d.item.item_id in ours]

    async def wait(self, idle_s: float) -> None:
        """A drain loop's pause: until the next held item is due, or the queue's next item is
        ``ahead_s`` from due (while there is room for it), ``idle_s`` at most (items other
        replicas put, retries), so that an item is worked at its moment rather than on the
        loop's next tick."""
        now = self._clock()
        moments = [now + idle_s]
        if self._held:
            moments.append(self._held[0].item.due_at)
        if self.room > 0 and (earliest := await self._store.earliest_due(self._queue)) is not None:
            moments.append(earliest - self.ahead_s)
        await asyncio.sleep(max(SHORTEST_WAIT_S, min(moments) - now))

    async def hand_back(self) -> None:
        """Give every held claim back, due at its moment for whoever claims next (a stop)."""
        held, self._held = self._held, []
        for keeper in {id(d.keeper): d.keeper for d in held}.values():
            await keeper.close()
        # Visible again at its own moment, not at once: else the next claim of what is due
        # now would work it early. A burst shares its moment, so these are few writes.
        moments: dict[float, list[DueItem]] = {}
        for d in held:
            moments.setdefault(d.item.due_at, []).append(d.item)
        with contextlib.suppress(Exception):  # else they come back when the lease runs out
            for due_at, items in moments.items():
                await self._store.extend_claims(items, max(due_at, self._clock()))
