"""Run a periodic job on one replica only, via a store lease the running replica keeps renewing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.store import FullStoreLog, Store, StoreFull

log = logging.getLogger(__name__)

JobBody = Callable[[], Awaitable[object]]


class SingletonJob:
    """A job body guarded by a lease: on every tick the holder renews it and runs; the others skip.

    The lease outlives a few ticks, so the same replica keeps the job, and another takes over
    within ``ttl_s`` when the holder dies.
    """

    def __init__(
        self,
        name: str,
        body: JobBody,
        *,
        store: Store,
        owner: str,
        ttl_s: float,
    ) -> None:
        self.name = name
        self._body = body
        self._store = store
        self._owner = owner
        self._ttl_s = ttl_s
        self._full = FullStoreLog(f"job {name}")

    async def run(self) -> bool:
        """Run once if this replica holds the lease; True if it ran."""
        try:
            if not await self._store.acquire_lease(f"job:{self.name}", self._owner, self._ttl_s):
                return False
            await self._body()
            self._full.worked()
        except StoreFull as exc:
            self._full.refused(exc)
        except asyncio.CancelledError:
            # Shutdown cancels a running tick; APScheduler would log that as a failed job.
            log.debug("job %s cancelled", self.name)
            return False
        except Exception:
            # A failed tick is retried on the next one; the scheduler must keep running.
            log.exception("job %s failed", self.name)
        return True

    async def release(self) -> None:
        await self._store.release_lease(f"job:{self.name}", self._owner)
