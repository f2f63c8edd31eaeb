"""The inbox's drain: claims queued hints, re-reads their entities a batch at a time (one amoCRM
list request per kind, ``EventProcessor.prefetch``) and applies each; waits while amoCRM refuses
our token."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from pydantic import ValidationError

from bot.core import Clock, CrmError, is_expected
from bot.crm.ingest import INBOX_QUEUE, RETRY_DELAYS_S, EventProcessor, QueuedHint
from bot.store import CLAIM_LEASE_S, DueEntry, DueItem, Store, keep_claims

log = logging.getLogger(__name__)


class AccessGate(Protocol):
    """Whether amoCRM accepts our token (the composition root's ``AccessWatch``)."""

    async def paused(self) -> bool:
        """True while amoCRM work must wait: access is lost, or not authorised yet."""
        ...

    async def lost_now(self, why: str) -> None:
        """Record that amoCRM refused our token (the admins are told once)."""
        ...


class InboxDrainer:
    """Claims queued hints and processes them; a failed hint is retried later with backoff.

    While amoCRM refuses our token (``gate``), it claims nothing: the hints wait in the inbox,
    unchanged, and are processed once access is back. A hint that meets the refusal first is put
    back as it was, with the rest of its batch.
    """

    def __init__(
        self,
        store: Store,
        processor: EventProcessor,
        clock: Clock,
        *,
        gate: AccessGate | None = None,
        queue: str = INBOX_QUEUE,
    ) -> None:
        self._store = store
        self._queue = queue
        self._processor = processor
        self._clock = clock
        self._gate = gate

    async def drain_once(self, limit: int = 20) -> int:
        """Process what is due now; returns how many hints were processed or retried."""
        if self._gate is not None and await self._gate.paused():
            return 0
        items = await self._store.claim_due(self._queue, self._clock.now(), limit, CLAIM_LEASE_S)
        # Renewed while the batch is worked through; if this worker dies they come back soon.
        async with keep_claims(self._store, items, CLAIM_LEASE_S, self._clock.now):
            return await self._process(items)

    async def _process(self, items: list[DueItem]) -> int:
        batch: list[tuple[DueItem, QueuedHint]] = []
        for item in items:
            try:
                batch.append((item, QueuedHint.model_validate_json(item.payload)))
            except ValidationError:
                log.error("dropping unreadable inbox item %s", item.item_id)
                await self._store.complete_due(item)
        try:
            prefetched = await self._processor.prefetch([queued.hint for _, queued in batch])
        except CrmError as exc:
            if exc.access_lost and self._gate is not None:
                return await self._wait_for_access(self._gate, batch, claimed=len(items))
            # The batch's read failed as each hint's own would have: each is retried later.
            for item, queued in batch:
                await self._retry(item.item_id, queued, exc)
            return len(items)
        except Exception:
            # Not amoCRM's answer (the cache could not be read, say): each hint goes its own way
            # below, reading on its own, as it would have without the batch.
            log.exception("batch re-read failed; reading one by one")
            prefetched = None
        for index, (item, queued) in enumerate(batch):
            try:
                await self._processor.process(queued.hint, prefetched)
            except CrmError as exc:
                if not exc.access_lost or self._gate is None:
                    await self._retry(item.item_id, queued, exc)
                    continue
                return await self._wait_for_access(self._gate, batch[index:], claimed=len(items))
            except Exception as exc:
                await self._retry(item.item_id, queued, exc)
                continue
            await self._store.complete_due(item)
        return len(items)

    async def _wait_for_access(
        self, gate: AccessGate, waiting: Sequence[tuple[DueItem, QueuedHint]], *, claimed: int
    ) -> int:
        """Tell the gate that amoCRM refuses the token and put ``waiting`` back; returns how
        many of the ``claimed`` items were handled."""
        await gate.lost_now("amoCRM rejects the token")
        # Put back as they were (same due time, same attempt): they wait for access.
        await self._store.put_due_many(self._queue, [
            DueEntry(item_id=i.item_id, due_at=i.due_at, payload=i.payload) for i, _ in waiting
        ])  # fmt: skip
        log.info("amoCRM access is lost: %d hint(s) wait in the inbox", len(waiting))
        return claimed - len(waiting)

    async def _retry(self, item_id: str, queued: QueuedHint, exc: Exception) -> None:
        # Anything else from the amoCRM read (rate limit, outage) is retried; the poll and the
        # sync would repair it too, but later.
        delay = RETRY_DELAYS_S[min(queued.attempt, len(RETRY_DELAYS_S) - 1)]
        # An outage or a rate limit is amoCRM's documented answer: a line, not a traceback.
        log.warning(
            "hint %s failed (attempt %d), retrying in %.0fs: %s",
            item_id,
            queued.attempt + 1,
            delay,
            exc,
            exc_info=not is_expected(exc),
        )
        retry = QueuedHint(hint=queued.hint, attempt=queued.attempt + 1)
        await self._store.put_due(
            self._queue, item_id, self._clock.now() + delay, retry.model_dump_json()
        )
