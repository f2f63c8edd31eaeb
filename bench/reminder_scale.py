"""A million pending reminders in the store's due index, and a burst of 10,000 due in one second,
next to the design this replaces: one APScheduler 3 job per reminder in memory.

For each store (SQLite, then Redis) the real service is built (``running_service`` against the
amoCRM emulator, no messenger: the outbox is where a reminder counts as fired, so no platform
limit hides the scheduler's cost) and:

* plans ``--reminders`` pending reminders through ``ReminderService.reschedule_many`` (tasks
  days ahead, a thousand a call, as a bulk load does), timed; bytes per reminder are the store's
  growth (SQLite: the file after a WAL checkpoint; Redis: ``INFO memory`` used_memory) over the
  count;
* caches 10,000 more tasks whose 15-minute reminder falls in one second ``T`` and plans them
  (the first thousand one at a time, ``reschedule``, as the change listener does: timed too),
  moves the service clock to ``BURST_LEAD_S`` before ``T`` (so nothing waits for the wall
  clock; a running loop would have been going long before) and runs the reminder loop as the
  service runs it (``scheduler.runner.DrainLoop`` over ``ReminderService.fire_due``: claims
  from the due index, ``DRAW_AHEAD_S`` ahead, cards drawn then; at ``T`` the claims checked,
  held messages, the outbox): the lateness of each reminder is the service clock when it
  reached the outbox, minus ``T``. None is queued before ``T``.

The baseline, first in the same process: an ``AsyncIOScheduler`` with a ``MemoryJobStore``
holding one date job per reminder, as many as the cap allows (``--baseline-jobs``, default
200,000; 20,000 with ``--quick``; and never more than 1 GiB of RSS growth): bytes per job from
tracemalloc (and RSS); then 10,000 jobs due in one second, each queuing the same card into the
same outbox.

    python bench/scheduler.py [--quick] [--reminders N] [--redis redis://127.0.0.1:6379/0]

Without ``--redis`` a private ``redis-server`` is started (free port, temp dir, no persistence).
The last line printed is one JSON object: ``burst_p99_s`` (the worse store's), ``memory_ratio``
(baseline bytes per job by tracemalloc over our bytes per reminder, the worse store's; by RSS
in ``memory_ratio_rss``), and per-store figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis

from bot.app import AmoCrmSettings, HttpSettings, Settings, running_service
from bot.core import Task
from bot.delivery import OutboxItem, outbox_queue
from bot.people import ChannelLink, Links
from bot.store import EntityChange
from bot.tasks import DRAW_AHEAD_S
from sandbox.amocrm import AmoEmulator, seed_demo_account
from sandbox.redis_server import RedisServer, RedisServerError
from scheduler.runner import DrainLoop

BURST = 10_000
PLAN_CHUNK = 1_000  # tasks per ``reschedule_many`` (a bulk load)
CONCURRENCY = 16  # one-task steps in flight (as the change listener makes them)
ONE_BY_ONE = 1_000  # of the burst's reminders planned one at a time (``reschedule``), timed
RSS_CAP = 1 << 30  # the baseline stops adding jobs past this much RSS growth
# The burst comes due this long after the loop starts: time for the loop to draw it ahead
# (within DRAW_AHEAD_S of its moment), as a loop that has been running for a while would.
BURST_LEAD_S = DRAW_AHEAD_S + 2.0
LEAD_S = 15 * 60  # the burst is each task's 15-minute reminder


@dataclass
class ShiftedClock:
    """The service's clock: the wall clock moved by ``offset``, so the burst comes due at once
    instead of an hour later. Lateness is read on this clock, so the shift cancels out."""

    offset: float = 0.0

    def now(self) -> float:
        return time.time() + self.offset


@dataclass
class Lateness:
    """When each of ``expected`` reminders reached the outbox, relative to when it was due."""

    due_at: float
    clock: Callable[[], float]
    expected: int = BURST
    seconds: list[float] = field(default_factory=list)
    all_fired: asyncio.Event = field(default_factory=asyncio.Event)

    def fired(self, _: float = 0.0) -> None:
        self.seconds.append(self.clock() - self.due_at)
        if len(self.seconds) >= self.expected:
            self.all_fired.set()

    async def wait(self, timeout_s: float = 600.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_fired.wait(), timeout_s)

    def figures(self) -> dict[str, float]:
        s = sorted(self.seconds)
        return {
            "fired": len(s),
            "p50_s": round(statistics.median(s), 3),
            "p99_s": round(s[min(len(s) - 1, int(len(s) * 0.99))], 3),
            "max_s": round(s[-1], 3),
            "first_s": round(s[0], 3),  # below 0: one was queued before its moment
        }


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Footprint:
    """What the store takes: the SQLite file (WAL checkpointed first), or Redis's used_memory."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def bytes(self) -> int:
        if self._url.startswith("sqlite:///"):
            path = self._url.removeprefix("sqlite:///")
            return await asyncio.to_thread(_sqlite_bytes, path)
        client = Redis.from_url(self._url)
        try:
            return int((await client.info("memory"))["used_memory"])
        finally:
            await client.aclose()


def _sqlite_bytes(path: str) -> int:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


@contextlib.asynccontextmanager
async def amocrm() -> AsyncIterator[tuple[AmoEmulator, list[int]]]:
    amo = AmoEmulator(subdomain="bench", clock=time.time)
    async with amo.serve(host="127.0.0.1", port=0):
        demo = seed_demo_account(amo)
        yield amo, [demo.ivan, demo.maria, demo.oleg, demo.supervisor]


def settings(amo: AmoEmulator, store_url: str) -> Settings:
    return Settings(
        _env_file=None,
        amocrm=AmoCrmSettings(base_url=amo.base_url, long_lived_token=amo.long_lived_token),
        http=HttpSettings(host="127.0.0.1", port=0),
        store_url=store_url,
        redis_key_prefix=f"schedbench:{time.time_ns()}:",
        log_level="WARNING",
    )


def task(task_id: int, owner: int, complete_till: int) -> Task:
    return Task(
        id=task_id,
        text=f"Call back #{task_id}",
        responsible_user_id=owner,
        complete_till=complete_till,
        entity_type="leads",
        entity_id=task_id,
    )


async def measure_store(
    name: str, store_url: str, amo: AmoEmulator, people: list[int], pending: int
) -> dict[str, float]:
    clock = ShiftedClock()
    footprint = Footprint(store_url)
    async with running_service(settings(amo, store_url), clock=clock, run_jobs=False) as service:
        store, s = service.store, service.services
        assert s is not None
        links = Links(store)
        for n, person in enumerate(people):
            await links.link(
                ChannelLink(
                    channel="telegram",
                    amo_user_id=person,
                    account_id=str(9000 + n),
                    chat_id=str(9000 + n),
                )
            )
        reminders = s.reminders

        async def cache(t: Task) -> None:
            await store.apply_change(EntityChange(kind="task", id=t.id, expected_rev=None, new=t))

        burst_at = int(clock.now()) + 7200
        before = await footprint.bytes()
        started = time.perf_counter()
        for first in range(1, pending + 1, PLAN_CHUNK):
            await reminders.reschedule_many([
                task(n, people[n % len(people)], burst_at + 86_400 + n % 86_400)
                for n in range(first, min(pending + 1, first + PLAN_CHUNK))
            ])  # fmt: skip
        plan_s = time.perf_counter() - started
        grown = await footprint.bytes() - before
        print(
            f"{name}: planned {pending:,} in {plan_s:.1f} s ({pending / plan_s:,.0f}/s), "
            f"{grown / pending:.0f} bytes per reminder"
        )

        burst = [task(pending + 1 + n, people[n % len(people)], burst_at + LEAD_S)
                 for n in range(BURST)]  # fmt: skip
        await each(cache, iter(burst))
        clock.offset = burst_at - 1000 - time.time()  # the 60-minute reminders are past
        # A sample one task at a time, as the change listener plans; the rest in bulk.
        started = time.perf_counter()
        await each(reminders.reschedule, iter(burst[:ONE_BY_ONE]))
        one_by_one_s = time.perf_counter() - started
        for first in range(ONE_BY_ONE, BURST, PLAN_CHUNK):
            await reminders.reschedule_many(burst[first : first + PLAN_CHUNK])
        assert await store.count_due("reminders") == pending + BURST

        clock.offset = burst_at - BURST_LEAD_S - time.time()
        await s.directory.account()  # the clock jumped: read it now, not in the burst
        late = Lateness(float(burst_at), clock.now)
        reminders.observe_fired(late.fired)
        # The loop as the service runs it (bot/app/wiring.py).
        loop = DrainLoop("reminders", reminders.fire_due, reminders.wait_due)
        loop.start()
        try:
            await late.wait()
        finally:
            await loop.stop()
            await reminders.hand_back()
        queued = await store.count_due(outbox_queue("telegram"))
        figures = late.figures()
        assert figures["first_s"] >= 0, f"a reminder was queued {-figures['first_s']} s early"
        print(
            f"{name}: burst of {BURST:,}: {figures['fired']:,} fired, {queued:,} in the "
            f"outbox, lateness p50 {figures['p50_s']} s, p99 {figures['p99_s']} s, "
            f"max {figures['max_s']} s"
        )
        return {
            "plan_per_s": round(pending / plan_s),
            "reschedule_per_s": round(ONE_BY_ONE / one_by_one_s),
            "bytes_per_reminder": round(grown / pending, 1),
            "burst_p50_s": figures["p50_s"],
            "burst_p99_s": figures["p99_s"],
            "burst_max_s": figures["max_s"],
            "fired": figures["fired"],
            "outbox": queued,
        }


async def each(step: Callable[[Task], Awaitable[None]], tasks: Iterator[Task]) -> None:
    """``step`` every task, ``CONCURRENCY`` at a time (as the change listener would)."""

    async def worker() -> None:
        for t in tasks:
            await step(t)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def measure_baseline(
    store_url: str, amo: AmoEmulator, people: list[int], cap_jobs: int
) -> dict[str, float]:
    """One APScheduler date job per reminder (the replaced design), on the same outbox."""
    async with running_service(settings(amo, store_url), run_jobs=False) as service:
        s = service.services
        assert s is not None
        now = int(time.time())
        cards = {
            p: await s.cards.task_card(task(p, p, now + LEAD_S), await s.reminders.reader(p), now)
            for p in people
        }
        late = Lateness(0.0, time.time)

        async def fire(task_id: int, user_id: int, at: int) -> None:
            item = OutboxItem(
                channel="telegram",
                chat_id=str(user_id),
                recipient=user_id,
                subject=f"task:{task_id}",
                notice="reminder",
                card=cards[user_id],
            )
            await s.outbox.enqueue(
                [item], once=f"reminder:{task_id}:{user_id}:{at}", once_ttl_s=3 * 86_400
            )
            late.fired()

        scheduler = AsyncIOScheduler(timezone=UTC, jobstores={"default": MemoryJobStore()})
        scheduler.start()
        far = datetime.fromtimestamp(now + 86_400, UTC)
        rss0 = rss()
        tracemalloc.start()
        traced0 = tracemalloc.get_traced_memory()[0]
        jobs = 0
        started = time.perf_counter()
        while jobs < cap_jobs and rss() - rss0 < RSS_CAP:
            for n in range(jobs, min(cap_jobs, jobs + 10_000)):
                scheduler.add_job(
                    fire,
                    "date",
                    run_date=far,
                    args=(n, people[n % 4], now),
                    misfire_grace_time=None,
                )
            jobs = min(cap_jobs, jobs + 10_000)
        add_s = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[0] - traced0
        tracemalloc.stop()
        grown = rss() - rss0
        print(
            f"APScheduler: {jobs:,} jobs added in {add_s:.1f} s ({jobs / add_s:,.0f}/s), "
            f"{traced / jobs:.0f} bytes per job (tracemalloc), {grown / jobs:.0f} (RSS)"
        )

        at = int(time.time()) + 3
        late.due_at = at
        when = datetime.fromtimestamp(at, UTC)
        for n in range(BURST):
            user = people[n % 4]
            scheduler.add_job(
                fire, "date", run_date=when, args=(cap_jobs + n, user, at), misfire_grace_time=None
            )
        await late.wait()
        scheduler.shutdown(wait=False)
        figures = late.figures()
        print(
            f"APScheduler: burst of {BURST:,}: {figures['fired']:,} fired, lateness p50 "
            f"{figures['p50_s']} s, p99 {figures['p99_s']} s, max {figures['max_s']} s"
        )
        return {
            "jobs": jobs,
            "add_per_s": round(jobs / add_s),
            "bytes_per_job": round(traced / jobs, 1),
            "rss_bytes_per_job": round(grown / jobs, 1),
            "burst_p50_s": figures["p50_s"],
            "burst_p99_s": figures["p99_s"],
            "burst_max_s": figures["max_s"],
            "fired": figures["fired"],
        }


async def main(pending: int, cap_jobs: int, redis_url: str) -> dict[str, object]:
    workdir = tempfile.mkdtemp(prefix="schedbench-")
    try:
        async with amocrm() as (amo, people):
            # The baseline first: its RSS growth is only seen in a process that has not yet
            # grown and freed (our bursts hold their drawn cards for a few seconds).
            base = await measure_baseline(f"sqlite:///{workdir}/base.db", amo, people, cap_jobs)
            ours = {
                "sqlite": await measure_store(
                    "SQLite", f"sqlite:///{workdir}/ours.db", amo, people, pending
                ),
                "redis": await measure_store("Redis", redis_url, amo, people, pending),
            }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    worst_bytes = max(x["bytes_per_reminder"] for x in ours.values())
    ratio = base["bytes_per_job"] / worst_bytes
    print(
        f"memory: {base['bytes_per_job']:.0f} bytes per APScheduler job, {worst_bytes:.0f} per "
        f"reminder in our worse store: {ratio:.1f}x less"
    )
    return {
        "reminders": pending,
        "burst": BURST,
        "burst_p99_s": max(x["burst_p99_s"] for x in ours.values()),
        "memory_ratio": round(ratio, 1),
        "memory_ratio_rss": round(base["rss_bytes_per_job"] / worst_bytes, 1),
        "baseline_burst_p99_s": base["burst_p99_s"],
        "sqlite": ours["sqlite"],
        "redis": ours["redis"],
        "apscheduler": base,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 reminders (under a minute)")
    parser.add_argument("--reminders", type=int, default=None, help="pending reminders")
    parser.add_argument("--baseline-jobs", type=int, default=None, help="APScheduler jobs cap")
    parser.add_argument("--redis", default=None, help="a Redis URL (default: a private server)")
    args = parser.parse_args()
    pending = args.reminders or (100_000 if args.quick else 1_000_000)
    cap = args.baseline_jobs or (20_000 if args.quick else 200_000)
    with contextlib.ExitStack() as stack:
        url = args.redis
        if url is None:
            try:
                server = RedisServer.start(prefix="schedbench-redis-")
            except RedisServerError as exc:
                raise SystemExit(f"{exc}: install it, or give --redis URL") from None
            url = stack.enter_context(contextlib.closing(server)).url
        print(json.dumps(asyncio.run(main(pending, cap, url))))
