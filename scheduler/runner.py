"""APScheduler 3 runs the periodic jobs; the inbox worker is a loop of its own, woken by webhooks.

Reminders and other timed items are never APScheduler jobs: they live in the store's due index,
and one periodic job drains it (DESIGN.md, data flow 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import FailureNote
from scheduler.singleton import SingletonJob

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, jobs: list[tuple[SingletonJob, float]]) -> None:
        self._jobs = jobs
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        for job, interval_s in self._jobs:
            # A bound coroutine method: APScheduler runs an async callable *object* in a thread.
            scheduler.add_job(
                job.run,
                "interval",
                seconds=interval_s,
                id=job.name,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
                misfire_grace_time=max(1, int(interval_s)),
            )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        for job, _ in self._jobs:
            await job.release()


class DrainLoop:
    """Drains a queue from the store's due index: at once when this process queued something,
    else every ``idle_s`` (items queued by other replicas, retries coming due, claims whose
    worker died). Used for the hint inbox and for each channel's outbox."""

    def __init__(
        self,
        name: str,
        drain_once: Callable[[], Awaitable[int]],
        wait: Callable[[float], Awaitable[None]],
        *,
        idle_s: float = 1.0,
    ) -> None:
        self._name = name
        self._drain_once = drain_once
        self._wait = wait
        self._idle_s = idle_s
        self._task: asyncio.Task[None] | None = None
        self._failures = FailureNote(log, name)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while True:
            try:
                while await self._drain_once():
                    pass
            except Exception as exc:
                self._failures.failed(exc)
            else:
                self._failures.worked()
            try:
                await self._wait(self._idle_s)
            except Exception as exc:  # the wait asks the store too: down, it is the idle pause
                self._failures.failed(exc)
                await asyncio.sleep(self._idle_s)

    async def stop(self) -> None:
        task = self._task
        if task is None:
            return
        # Python 3.11's wait_for swallows a cancel that lands just as what it waits for is
        # done (a wake set by a queueing in this process): the loop would then run on, and the
        # stop never end. Cancelled again until it is done.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._task = None
