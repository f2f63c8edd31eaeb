"""Working through a due queue: the loop the reminder, held-message and settling jobs share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core import FailureNote
from bot.store.protocol import DueItem, Store


async def work_due(
    store: Store,
    queue: str,
    now: float,
    limit: int,
    lease_s: float,
    work: Callable[[DueItem], Awaitable[None]],
    *,
    failures: FailureNote,
) -> int:
    """Claim up to ``limit`` items of ``queue`` due by ``now`` and ``work`` each; returns how many
    were claimed. One that fails is noted in ``failures`` (the caller's, kept across calls, so
    that an amoCRM outage is said once, not per item and tick) and left claimed: it comes back
    when the claim runs out and is tried again."""
    items = await store.claim_due(queue, now, limit, lease_s)
    failed = False
    for item in items:
        try:
            await work(item)
        except Exception as exc:
            failed = True
            failures.failed(exc, item.item_id)
    if items and not failed:
        failures.worked()
    return len(items)
