"""Run a periodic job on one replica only, via a store lease the running replica keeps renewing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

from bot.core import FailureNote
from bot.store import Store

log = logging.getLogger(__name__)

JobBody = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True, eq=False)
class SingletonJob:
    """A job body guarded by a lease: on every tick the holder renews it and runs; the others skip.

    The lease outlives a few ticks, so the same replica keeps the job, and another takes over
    within ``ttl_s`` when the holder dies.
    """

    name: str
    body: JobBody
    _: KW_ONLY
    store: Store
    owner: str
    ttl_s: float
    _failures: FailureNote = field(init=False)

    def __post_init__(self) -> None:
        # Frozen: the note is built once from the name, so it is set past the frozen guard.
        object.__setattr__(self, "_failures", FailureNote(log, f"job {self.name}"))

    async def run(self) -> bool:
        """Run once if this replica holds the lease; True if it ran."""
        try:
            if not await self.store.acquire_lease(f"job:{self.name}", self.owner, self.ttl_s):
                return False
            await self.body()
        except asyncio.CancelledError:
            # Shutdown cancels a running tick; APScheduler would log that as a failed job.
            log.debug("job %s cancelled", self.name)
            return False
        except Exception as exc:
            # A failed tick is retried on the next one; the scheduler must keep running.
            self._failures.failed(exc)
        else:
            self._failures.worked()
        return True

    async def release(self) -> None:
        await self.store.release_lease(f"job:{self.name}", self.owner)
