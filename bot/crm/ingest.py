"""CRM changes in: hints are queued durably, then each entity is re-read and applied once.

Webhooks, the events poll and the periodic sync all end in ``EventProcessor.apply``, which
compares amoCRM's current entity with the cached one, derives the events (``bot.crm.changes``) and
writes cache and journal in one compare-and-set. Whatever path a change takes, and however often,
it yields its events once.

The inbox, the processor and the listener hand-over share one exactly-once argument
(compare-and-set, journal, due queues), easier to check in one file; the loop that drains the
inbox is ``bot.crm.drain``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from pydantic import Field

from bot.core import (
    Clock,
    CrmEvent,
    CrmReader,
    Deal,
    EntityHint,
    EntityKind,
    FailureNote,
    HintSource,
    Task,
    Value,
)
from bot.crm.changes import deal_events, task_events
from bot.crm.claims import Claims
from bot.store import Cached, DueEntry, EntityChange, Store

log = logging.getLogger(__name__)

_E = TypeVar("_E", Task, Deal)

INBOX_QUEUE = "inbox"
# What the events poll found (mostly changes a webhook brought already): drained apart, in the
# background, so that a burst of it never holds up a webhook's change (bench/latency.py).
CATCH_UP_QUEUE = "inbox:catch-up"
INBOX_QUEUES = (INBOX_QUEUE, CATCH_UP_QUEUE)
RETRY_DELAYS_S = (5.0, 30.0, 120.0, 600.0)
_CAS_ATTEMPTS = 5

EventListener = Callable[[Sequence[CrmEvent]], Awaitable[None]]
# How long the process that journals an event has to run its listeners before the events are
# given again (redeliver) to whichever replica claims them.
LISTENER_HOLD_S = 30.0


class QueuedHint(Value):
    hint: EntityHint
    attempt: int = 0


class _Batch:
    """Hints waiting for the next inbox write, and a future per caller told how it ended."""

    def __init__(self) -> None:
        self.hints: list[EntityHint] = []
        self.waiters: list[asyncio.Future[None]] = []


class HintInbox:
    """The durable queue between "amoCRM told us" and "we applied it" (the store's due index).

    One entry per entity: a second hint for an entity that is still waiting replaces the first,
    so a burst of webhooks about one task costs one amoCRM read. Writes are group-committed:
    webhooks that arrive while a write is in flight share the next one, so under load the store
    sees one transaction per batch rather than one per request.
    """

    def __init__(self, store: Store, clock: Clock, queue: str = INBOX_QUEUE) -> None:
        self._store = store
        self._clock = clock
        self.queue = queue
        self._wake = asyncio.Event()
        self._open: _Batch | None = None
        self._write_lock = asyncio.Lock()
        self._flushes: set[asyncio.Task[None]] = set()

    async def accept(self, hints: Sequence[EntityHint]) -> None:
        """Return once the hints are stored durably (raise if they could not be)."""
        if not hints:
            return
        batch = self._open
        if batch is None:
            # The first hints of a batch start its write. It runs as its own task, so a caller
            # that goes away (a cancelled request) cannot strand the hints of the others, and
            # every caller of the batch wakes in the same loop turn when it is written.
            batch = self._open = _Batch()
            flush = asyncio.create_task(self._flush(batch), name="inbox-write")
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        batch.hints.extend(hints)
        # A future of its own (not a shield around a shared one: a third of the cost): a caller
        # that goes away cancels only its own, never the write.
        done = asyncio.get_running_loop().create_future()
        batch.waiters.append(done)
        await done
        self._wake.set()

    async def _flush(self, batch: _Batch) -> None:
        async with self._write_lock:
            # The batch takes hints until its turn to be written comes; later ones start the
            # next batch, written as soon as this one is.
            if self._open is batch:
                self._open = None
            try:
                await self._write(batch.hints)
            except Exception as exc:
                for waiter in batch.waiters:
                    if not waiter.done():  # not cancelled: its caller is there to be told
                        waiter.set_exception(exc)
            else:
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_result(None)

    async def close(self) -> None:
        """Finish the writes under way (at shutdown, before the store closes)."""
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def _write(self, hints: Sequence[EntityHint]) -> None:
        now = self._clock.now()
        entries = [
            DueEntry(item_id=f"{hint.kind}:{hint.id}", due_at=now, payload=_queued(hint))
            for hint in merge_hints(hints)
        ]
        await self._store.put_due_many(self.queue, entries)

    async def wait(self, timeout_s: float) -> None:
        """Return when a hint was accepted by this process, or after ``timeout_s``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout_s)
        self._wake.clear()

    async def depth(self) -> int:
        return await self._store.count_due(self.queue)


def _queued(hint: EntityHint) -> str:
    """``QueuedHint(hint=hint)`` as JSON, for the webhook's hot path: the hint is serialized
    once, without building and validating a wrapper around it (a third of the cost); unset
    fields are left out (their defaults)."""
    return f'{{"hint":{hint.model_dump_json(exclude_none=True)}}}'


# When one POST holds several hints for one entity (amoCRM sends leads[status] and leads[update]
# together), the most telling action wins and the "previous state" details are pooled.
_ACTION_RANK = {"add": 0, "status": 1, "responsible": 2, "complete": 3, "delete": 4, "update": 5}


def merge_hints(hints: Sequence[EntityHint]) -> list[EntityHint]:
    merged: dict[tuple[str, int], EntityHint] = {}
    for hint in hints:
        key = (hint.kind, hint.id)
        seen = merged.get(key)
        if seen is None:
            merged[key] = hint
            continue
        first, second = sorted((seen, hint), key=lambda h: _ACTION_RANK[h.action])
        merged[key] = first.model_copy(
            update={
                name: getattr(first, name)
                if getattr(first, name) is not None
                else getattr(second, name)
                for name in (
                    "old_status_id",
                    "old_pipeline_id",
                    "old_responsible_user_id",
                    "actor_id",
                    "at",
                )
            }
        )
    return list(merged.values())


def listener_queue(name: str) -> str:
    """The due queue holding a listener's share of the journal (``EntityChange.fanout``)."""
    return f"listen:{name}"


class Prefetched(Value):
    """Entities read ahead for a batch of hints, in one list request per kind: what the hints'
    own re-reads would have answered, at a fraction of amoCRM's 7 requests/s. An entity the
    list did not answer is gone (deleted, or out of our rights: its own read would answer
    nothing too) when the list kept to the ids it was asked for; if it answered any other, the
    filter was ignored, and each hint reads its entity on its own. So the list only ever saves
    requests: a poll's backlog of deleted deals costs one read a batch, not one each."""

    tasks: dict[int, Task] = Field(default_factory=dict)
    deals: dict[int, Deal] = Field(default_factory=dict)
    gone_tasks: frozenset[int] = frozenset()
    gone_deals: frozenset[int] = frozenset()


class EventProcessor:
    """Applies amoCRM's current entities and hands each newly journaled event to every listener.

    The hand-over is durable: the journal write also puts each event into every listener's own
    queue, hidden for ``hold_s``. This process then runs the listeners and removes the entries;
    if it dies first (or a listener fails), the entries come due and ``redeliver``, on any
    replica, gives the events to that listener again. So each listener gets each event at least
    once, and listeners are idempotent per event (re-planning reminders, editing cards, alerts
    marked per alert and recipient).
    """

    def __init__(
        self,
        store: Store,
        crm: CrmReader,
        clock: Clock,
        listeners: Mapping[str, EventListener] | None = None,
        *,
        hold_s: float = LISTENER_HOLD_S,
    ) -> None:
        self._store = store
        self._crm = crm
        self._clock = clock
        self._listeners = dict(listeners or {})
        self._hold_s = hold_s
        self._claims = Claims(store)
        # Per listener: while amoCRM is down its events come back every hold; said once.
        self._failures: dict[str, FailureNote] = {}

    def add_listener(self, name: str, listener: EventListener) -> None:
        """Register before the first event: the name is the listener's queue, across restarts."""
        if name in self._listeners:
            raise ValueError(f"a listener named {name!r} exists already")
        self._listeners[name] = listener

    async def process(
        self, hint: EntityHint, prefetched: Prefetched | None = None
    ) -> list[CrmEvent]:
        """Re-read the hinted entity through the API (or take it from ``prefetched``, read for
        its batch) and apply it."""
        ahead = prefetched or Prefetched()
        if hint.kind == "task":
            cached_task = await self._store.get_task(hint.id)
            if cached_task is not None and self._already_read(hint, cached_task.value):
                return await self.apply_task(hint.id, cached_task.value, hint)
            task = ahead.tasks.get(hint.id)
            if task is None and hint.id not in ahead.gone_tasks:
                task = await self._crm.task(hint.id)
            return await self.apply_task(hint.id, task, hint)
        cached_deal = await self._store.get_deal(hint.id)
        if cached_deal is not None and self._already_read(hint, cached_deal.value):
            return await self.apply_deal(hint.id, cached_deal.value, hint)
        deal = ahead.deals.get(hint.id)
        if deal is None and hint.id not in ahead.gone_deals:
            deal = await self._crm.lead(hint.id)
        return await self.apply_deal(hint.id, deal, hint)

    async def prefetch(self, hints: Sequence[EntityHint]) -> Prefetched:
        """Read the entities ``hints`` need in one list request per kind (``filter[id]``),
        leaving out those the cache stands in for. Raises the read's ``CrmError``."""
        wanted: dict[EntityKind, list[int]] = {"task": [], "deal": []}
        for hint in hints:
            get = self._store.get_task if hint.kind == "task" else self._store.get_deal
            cached = await get(hint.id)
            if cached is None or not self._already_read(hint, cached.value):
                wanted[hint.kind].append(hint.id)
        # One entity alone is read as before: a list request would cost the same.
        tasks = await self._crm.tasks(ids=wanted["task"]) if len(wanted["task"]) > 1 else []
        deals = await self._crm.leads(ids=wanted["deal"]) if len(wanted["deal"]) > 1 else []
        return Prefetched(
            tasks={t.id: t for t in tasks},
            deals={d.id: d for d in deals},
            gone_tasks=_gone(wanted["task"], {t.id for t in tasks}),
            gone_deals=_gone(wanted["deal"], {d.id for d in deals}),
        )

    @staticmethod
    def _already_read(hint: EntityHint, cached: Task | Deal) -> bool:
        # A polled event older than the cached version happened before that version was read,
        # so the cache can stand in for an amoCRM read. Not in the same second: amoCRM times are
        # whole seconds, and a second change within it would hide behind an equal version.
        # Webhook hints carry no version to trust and are always re-read.
        return (
            hint.source is HintSource.POLL and hint.at is not None and cached.updated_at > hint.at
        )

    async def apply_task(
        self, task_id: int, current: Task | None, hint: EntityHint | None
    ) -> list[CrmEvent]:
        """Apply amoCRM's current task (None: gone); returns the events newly journaled."""
        return await self._apply("task", task_id, current, hint, self._store.get_task, task_events)

    async def apply_deal(
        self, deal_id: int, current: Deal | None, hint: EntityHint | None
    ) -> list[CrmEvent]:
        """Apply amoCRM's current deal (None: gone); returns the events newly journaled."""
        if current is not None and current.is_deleted:
            current = None
        return await self._apply("deal", deal_id, current, hint, self._store.get_deal, deal_events)

    async def _apply(
        self,
        kind: EntityKind,
        entity_id: int,
        current: _E | None,
        hint: EntityHint | None,
        read: Callable[[int], Awaitable[Cached[_E] | None]],
        derive: Callable[[_E | None, _E | None, EntityHint | None, int], list[CrmEvent]],
    ) -> list[CrmEvent]:
        for _ in range(_CAS_ATTEMPTS):
            cached = await read(entity_id)
            before = cached.value if cached else None
            # A change amobridge wrote for someone is theirs, whichever path brought it back.
            said = await self._claims.attribute(kind, entity_id, before, current, hint)
            events = derive(before, current, said, int(self._clock.now()))
            if not events and (before == current or _older(current, before)):
                return []
            rev = cached.rev if cached else None
            journaled = await self._commit(kind, entity_id, rev, current, events)
            if journaled is not None:
                return journaled
        log.warning("%s %s: gave up after %d conflicting updates", kind, entity_id, _CAS_ATTEMPTS)
        return []

    async def _commit(
        self,
        kind: EntityKind,
        entity_id: int,
        expected_rev: int | None,
        new: Task | Deal | None,
        events: list[CrmEvent],
    ) -> list[CrmEvent] | None:
        change = EntityChange(
            kind=kind, id=entity_id, expected_rev=expected_rev, new=new, events=tuple(events),
            fanout=tuple(listener_queue(name) for name in self._listeners),
            hold_until=self._clock.now() + self._hold_s,
        )  # fmt: skip
        journaled = await self._store.apply_change(change)
        if journaled is None:
            return None
        if journaled:
            log.info("applied %s", ", ".join(e.key for e in journaled))
            for name, listener in self._listeners.items():
                if await self._run(name, listener, journaled):
                    for event in journaled:
                        await self._store.cancel_due(listener_queue(name), event.key)
        return list(journaled)

    async def redeliver(self, limit: int = 50) -> int:
        """Give each listener the events it did not finish (its process died, or it failed),
        oldest first; returns how many were delivered."""
        delivered = 0
        for name, listener in self._listeners.items():
            queue = listener_queue(name)
            items = await self._store.claim_due(queue, self._clock.now(), limit, self._hold_s)
            if not items:
                continue
            items.sort(key=lambda item: item.due_at)
            events = [CrmEvent.model_validate_json(item.payload) for item in items]
            log.info("%s: redelivering %s", name, ", ".join(e.key for e in events))
            if await self._run(name, listener, events):
                for item in items:
                    await self._store.complete_due(item)
                delivered += len(items)
        return delivered

    async def _run(self, name: str, listener: EventListener, events: Sequence[CrmEvent]) -> bool:
        failures = self._failures.setdefault(name, FailureNote(log, f"listener {name}"))
        try:
            await listener(events)
        except Exception as exc:
            # Its queue keeps the events: they come again once the hold is over.
            failures.failed(exc, ", ".join(e.key for e in events))
            return False
        failures.worked()
        return True


def _gone(asked: list[int], answered: set[int]) -> frozenset[int]:
    """The ids a list read by ``filter[id]`` left out, if it kept to them (see Prefetched)."""
    if len(asked) < 2 or not answered <= set(asked):
        return frozenset()  # not read as a list, or the filter was ignored
    return frozenset(asked) - answered


def _older(current: Task | Deal | None, cached: Task | Deal | None) -> bool:
    """A read older than what the cache holds (the cache is never moved back)."""
    return current is not None and cached is not None and current.updated_at < cached.updated_at
