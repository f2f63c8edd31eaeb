"""Request pacing: amoCRM allows 7 requests/s per integration, for all its processes together.

The pace lives in the store (a shared timeline of slots), so every coroutine and every replica
sharing the store keeps one pace, and a 429 storm is avoided rather than retried through.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.store import Store

DEFAULT_RATE_PER_S = 6.0  # under amoCRM's 7/s, leaving room for clock jitter between replicas


class Pacer(Protocol):
    async def wait_turn(self) -> None:
        """Return when the caller may send its next request."""
        ...


class StorePacer:
    def __init__(
        self, store: Store, name: str = "amocrm:pace", rate_per_s: float = DEFAULT_RATE_PER_S
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self._store = store
        self._name = name
        self._interval = 1.0 / rate_per_s

    async def wait_turn(self) -> None:
        wait = await self._store.reserve_slot(self._name, self._interval)
        if wait > 0:
            await asyncio.sleep(wait)


class NoPacing:
    """No pacing at all: for tests against a fake transport, and for baselines."""

    async def wait_turn(self) -> None:
        return None
