"""Working through a due queue: the loop the reminder, held-message and settling jobs share."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.store.protocol import DueItem, Store


async def work_due(
    store: Store,
    queue: str,
    now: float,
    limit: int,
    lease_s: float,
    work: Callable[[DueItem], Awaitable[None]],
    *,
    log: logging.Logger,
    failed: str,
) -> int:
    """Claim up to ``limit`` items of ``queue`` due by ``now`` and ``work`` each; returns how many
    were claimed. One that fails is logged (``failed`` % its id, on the caller's ``log``) and left
    claimed: it comes back when the claim runs out and is tried again."""
    items = await store.claim_due(queue, now, limit, lease_s)
    for item in items:
        try:
            await work(item)
        except Exception:
            log.exception(failed, item.item_id)
    return len(items)
