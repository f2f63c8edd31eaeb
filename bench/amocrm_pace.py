"""amoCRM at its limit, never over it: requests/s under amoCRM's 7/s, and requests per change.

The amoCRM emulator runs in this process on loopback with its 7/s limit (a sliding one-second
window that counts every request, refused ones too) and the seeded demo account. The same task
reads are made by 50 concurrent callers:

- baseline: unpaced, one try each (plain httpx): how many amoCRM would refuse;
- retry only (not with ``--quick``): our client without a pacer (its 429 backoff alone);
- before: ``StorePacer`` as it was (6/s, a late turn sent anyway) on SQLite, one process;
- paced: ``StorePacer`` as it is (7 in any 1.06 s, 6.6/s under load; a turn woken late takes a
  fresh moment), one process;
- replicas: 3 processes, each its own ``AmoClient`` and ``StorePacer`` with 50 callers, on one
  shared Redis (a private ``redis-server`` on a free port unless ``--redis`` names one), the
  same reads split among them;
- a person behind a job: the 50 callers are a background job (``in_background``, as the
  scheduler's jobs and the catch-up drain run) reading half as many tasks, while a person's
  read comes every 0.5 s; how long each of the person's reads took, against the same job not
  marked as background (every turn booked in one queue, the pacer before the background share).

Then requests per applied change: tasks moved and deals reassigned in amoCRM, each hinted once
as a webhook would, drained before (each hint re-read alone, ``EventProcessor.process`` per
hint as the drain did) and after (``InboxDrainer``: a batch's entities in one list request per
kind), counting amoCRM requests over the changes that were journaled.

    python bench/amocrm_pace.py [--quick] [--requests N] [--redis redis://127.0.0.1:6379/0]

``ratio`` is the paced rate over the limit, ``replicas_ratio`` the same across the replicas.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import Sized
from redis.exceptions import RedisError

from bot.core import CrmEvent, EntityHint, HintSource, SystemClock
from bot.crm import CacheSync, EventProcessor, HintInbox, InboxDrainer
from bot.store import RedisStore, SqliteStore, Store
from integrations.amocrm import (
    AmoClient,
    AmoError,
    LongLivedTokenAuth,
    NoPacing,
    StorePacer,
    in_background,
)
from integrations.amocrm.client import default_http
from integrations.amocrm.pacing import Pacer
from sandbox.amocrm import AmoEmulator, seed_demo_account

LIMIT_RPS = 7.0
CALLERS = 50
REPLICAS = 3
BEFORE_RATE = 6.0  # the default pace before issue #15 part 3
SIZE = Sized("--requests", "reads per run", quick=50, full=300, quick_takes="under a minute")
CHANGES = {"quick": 24, "full": 100}  # changes drained in each of before and after


async def _callers(jobs: Sequence[int], work: Callable[[int], Awaitable[None]]) -> float:
    """Run ``work`` over ``jobs`` from CALLERS concurrent callers; the seconds it took."""
    queue = iter(jobs)

    async def caller() -> None:
        for job in queue:
            await work(job)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return time.perf_counter() - started


async def _quiet_window() -> None:
    await asyncio.sleep(1.1)  # the emulator's sliding window empties between runs


async def baseline(base_url: str, token: str, ids: list[int]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, trust_env=False) as http:

        async def one(task_id: int) -> None:
            response = await http.get(f"/api/v4/tasks/{task_id}")
            statuses[response.status_code] += 1

        await _callers(ids, one)
    return statuses


@dataclass
class Reads:
    """What CALLERS callers reading through AmoClient saw: seconds, failures, send times."""

    seconds: float = 0.0
    failed: int = 0
    sent: list[float] = field(default_factory=list)  # wall clock, as each request left


def tightest_eight(sent: Sequence[float]) -> float:
    """The shortest time over which 8 requests in a row were sent, in ms: amoCRM's 7/s holds
    as sent while it is over 1000 (what reached amoCRM later may be squeezed by its own delays).
    """
    ordered = sorted(sent)
    spans = [ordered[n] - ordered[n - 7] for n in range(7, len(ordered))]
    return round(min(spans) * 1000) if spans else 0


async def _reads(base_url: str, token: str, pacer: Pacer, ids: Sequence[int]) -> Reads:
    reads = Reads()

    async def note(_: httpx.Request) -> None:
        reads.sent.append(time.time())

    http = default_http()
    async with (
        http,
        AmoClient(base_url, auth=LongLivedTokenAuth(token), pacer=pacer, http=http) as amo,
    ):
        # The connection is opened first, outside the API (amoCRM's limit counts /api/
        # requests): all the callers start at once, and a first request that also opens the
        # connection could reach amoCRM bunched with the next ones. A service has it open.
        await http.get(f"{base_url}/")
        http.event_hooks["request"] = [note]

        async def one(task_id: int) -> None:
            try:
                await amo.task(task_id)
            except AmoError:
                reads.failed += 1

        reads.seconds = await _callers(ids, one)
    return reads


async def through_client(
    emu: AmoEmulator, base_url: str, pacer: Pacer, ids: list[int]
) -> tuple[Reads, int]:
    """The reads through AmoClient, and the 429s amoCRM answered them."""
    start = len(emu.request_log)
    reads = await _reads(base_url, emu.long_lived_token, pacer, ids)
    return reads, sum(r.status == 429 for r in emu.request_log[start:])


PERSON_EVERY_S = 0.5


async def person_behind_a_job(
    emu: AmoEmulator, base_url: str, store: Store, ids: Sequence[int], *, marked: bool
) -> tuple[Reads, list[float], int]:
    """A job's reads from CALLERS callers (as background work if ``marked``) and, meanwhile, a
    person's read every PERSON_EVERY_S: the job's reads, each of the person's in seconds, and
    the 429s amoCRM answered."""
    pacer = StorePacer(store, f"person-{'marked' if marked else 'unmarked'}")
    start = len(emu.request_log)
    reads, person = Reads(), []
    http = default_http()
    async with (
        http,
        AmoClient(
            base_url, auth=LongLivedTokenAuth(emu.long_lived_token), pacer=pacer, http=http
        ) as amo,
    ):
        await http.get(f"{base_url}/")  # the connection open, as in _reads
        done = asyncio.Event()

        async def one(task_id: int) -> None:
            try:
                await amo.task(task_id)
            except AmoError:
                reads.failed += 1

        async def job() -> float:
            return await _callers(ids, one)

        async def someone() -> None:
            while not done.is_set():
                await asyncio.sleep(PERSON_EVERY_S)
                asked = time.perf_counter()
                await amo.task(ids[0])
                person.append(time.perf_counter() - asked)

        watching = asyncio.create_task(someone())
        reads.seconds = await (in_background(job)() if marked else job())
        done.set()
        await watching
    return reads, person, sum(r.status == 429 for r in emu.request_log[start:])


def _p99_ms(seconds: Sequence[float]) -> float:
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1)


# --- replicas ----------------------------------------------------------------------------------


async def replica(job: dict[str, Any]) -> None:
    """One replica (a process of its own): its reads once the parent says go, as one JSON line."""
    store = await RedisStore.open(job["redis"], key_prefix=job["prefix"])
    pacer = StorePacer(store)
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        began = time.time()
        reads = await _reads(job["base_url"], job["token"], pacer, job["ids"])
        ended = time.time()
    finally:
        await store.close()
    done = {"began": began, "ended": ended, "failed": reads.failed, "retaken": pacer.retaken,
            "sent": reads.sent}  # fmt: skip
    print(json.dumps(done), flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _redis(given: str | None) -> AsyncIterator[str]:
    """``given``, or a private redis-server of this run's own (no disk), stopped at the end."""
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: install it or pass --redis")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="amobridge-bench-redis-") as workdir:
        proc = await asyncio.create_subprocess_exec(
            binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", workdir,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + 10
            while True:  # ready when it answers a ping
                with contextlib.suppress(OSError, RedisError):
                    probe = await RedisStore.open(url, key_prefix="bench:probe:")
                    await probe.close()
                    break
                if time.monotonic() > deadline or proc.returncode is not None:
                    raise SystemExit("could not start redis-server")
                await asyncio.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            await proc.wait()


async def replicas(
    emu: AmoEmulator, base_url: str, redis_url: str, ids: list[int]
) -> tuple[Reads, int, int]:
    """The reads of ``ids`` by REPLICAS processes together, their 429s and turns retaken."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    shares = [ids[n::REPLICAS] for n in range(REPLICAS)]
    procs = []
    for share in shares:
        job = {"base_url": base_url, "token": emu.long_lived_token, "redis": redis_url,
               "prefix": prefix, "ids": share}  # fmt: skip
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--replica",
                json.dumps(job),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for proc in procs:  # every replica imported and connected before any starts
        assert proc.stdout is not None
        if (await proc.stdout.readline()).strip() != b"ready":
            raise SystemExit("a replica did not start")
    start = len(emu.request_log)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    results = []
    for proc in procs:
        out, _ = await proc.communicate()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    refused = sum(r.status == 429 for r in emu.request_log[start:])
    reads = Reads(
        seconds=max(r["ended"] for r in results) - min(r["began"] for r in results),
        failed=sum(int(r["failed"]) for r in results),
        sent=[t for r in results for t in r["sent"]],
    )
    return reads, refused, sum(int(r["retaken"]) for r in results)


# --- requests per applied change ---------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """What the changes are made to: open tasks, deals, and the managers deals move between."""

    tasks: list[int]
    deals: list[int]
    managers: tuple[int, ...]


async def drained(
    emu: AmoEmulator, base_url: str, store: Store, seeded: Seeded, changes: int, *, batched: bool
) -> tuple[int, int]:
    """(amoCRM requests, changes journaled) for ``changes`` fresh changes, each hinted once."""
    clock = SystemClock()
    applied: set[str] = set()

    async def journaled(events: Sequence[CrmEvent]) -> None:
        applied.update(f"{e.entity_kind}:{e.entity_id}" for e in events)

    async with AmoClient(
        base_url, auth=LongLivedTokenAuth(emu.long_lived_token), pacer=StorePacer(store)
    ) as amo:
        processor = EventProcessor(store, amo, clock, {"count": journaled})
        await CacheSync(store, amo, processor, clock).sync_once()  # the cache as amoCRM has it
        applied.clear()
        hints = _change(emu, seeded, changes)
        start = len(emu.request_log)
        if batched:
            await HintInbox(store, clock).accept(hints)
            drainer = InboxDrainer(store, processor, clock)
            while await drainer.drain_once():
                pass
        else:
            for hint in hints:
                await processor.process(hint)
        requests = len(emu.request_log) - start
    return requests, len(applied)


def _change(emu: AmoEmulator, seeded: Seeded, n: int) -> list[EntityHint]:
    """Make ``n`` changes in amoCRM, a quarter of them deals reassigned, the rest tasks moved;
    the webhook hints they give."""
    hints: list[EntityHint] = []
    for index in range(n):
        if index % 4 == 3:
            deal = seeded.deals[(index // 4) % len(seeded.deals)]
            owner = emu.lead(deal)["responsible_user_id"]
            others = [u for u in seeded.managers if u != owner]
            emu.set_lead_responsible(deal, others[index % len(others)])
            hints.append(EntityHint(kind="deal", id=deal, source=HintSource.WEBHOOK))
        else:
            task = seeded.tasks[index % len(seeded.tasks)]
            emu.update_task(task, complete_till=emu.task(task)["complete_till"] + 3600)
            hints.append(EntityHint(kind="task", id=task, source=HintSource.WEBHOOK))
    return hints


def _seed(emu: AmoEmulator, changes: int) -> Seeded:
    """The demo account, with enough open tasks and deals that each change is its own entity."""
    demo = seed_demo_account(emu)
    deals = list(demo.leads)
    for n in range(changes):
        emu.add_task(f"Call back #{n}", responsible_user_id=demo.ivan,
                     complete_till=int(time.time()) + 86400, entity_id=demo.leads[0])  # fmt: skip
        if n % 4 == 3:
            deal = emu.add_lead(f"Deal #{n}", status_id=demo.incoming, pipeline_id=demo.pipeline,
                                responsible_user_id=demo.maria)  # fmt: skip
            deals.append(deal)
    tasks = [t["id"] for t in emu.tasks() if not t["is_completed"]]
    return Seeded(tasks, deals, demo.managers)


# --- the run -----------------------------------------------------------------------------------


async def run(
    total: int, changes: int, redis: str | None, *, quick: bool
) -> dict[str, float | int]:
    emu = AmoEmulator(subdomain="demo", rate_limit_per_s=LIMIT_RPS)
    seeded = _seed(emu, changes)
    with tempfile.TemporaryDirectory(prefix="amobridge-bench-") as tmp:
        store = await SqliteStore.open(str(Path(tmp) / "pace.db"))
        try:
            async with emu.serve(host="127.0.0.1", port=0) as base_url, _redis(redis) as r_url:
                token = emu.long_lived_token
                ids = [seeded.tasks[n % len(seeded.tasks)] for n in range(total)]

                await _quiet_window()
                base = await baseline(base_url, token, ids)
                print(f"baseline (unpaced, one try): {dict(sorted(base.items()))}")

                figures: dict[str, float | int] = {}
                if not quick:  # its backoff alone takes a while, and its figures do not change
                    await _quiet_window()
                    retry, r_429 = await through_client(emu, base_url, NoPacing(), ids)
                    _say("retry only (no pacer)", retry, total, r_429)
                    figures = {"retry_only_rps": _rps(retry, total), "retry_only_429s": r_429,
                               "retry_only_failed": retry.failed}  # fmt: skip

                await _quiet_window()
                # As it was: turns evenly apart (no burst), late ones sent anyway.
                before = StorePacer(store, "before", BEFORE_RATE, burst=1, late_s=None)
                was, b_429 = await through_client(emu, base_url, before, ids)
                _say("before (6/s evenly, late turns sent)", was, total, b_429)

                await _quiet_window()
                paced = StorePacer(store)
                now, p_429 = await through_client(emu, base_url, paced, ids)
                _say("paced (StorePacer, 6.6/s)", now, total, p_429, paced.retaken)

                await _quiet_window()
                spread, x_429, x_retaken = await replicas(emu, base_url, r_url, ids)
                _say(f"{REPLICAS} replicas on Redis", spread, total, x_429, x_retaken)

                job_ids = ids[: max(25, total // 2)]
                await _quiet_window()
                unmarked, alone, u_429 = await person_behind_a_job(
                    emu, base_url, store, job_ids, marked=False
                )
                await _quiet_window()
                job, person, j_429 = await person_behind_a_job(
                    emu, base_url, store, job_ids, marked=True
                )
                print(
                    f"a person's read every {PERSON_EVERY_S} s behind a job of {len(job_ids)}"
                    f" reads: p99 {_p99_ms(person)} ms (n={len(person)}) with the job in the"
                    f" background at {_rps(job, len(job_ids)):.2f}/s, {j_429} x 429; p99"
                    f" {_p99_ms(alone)} ms (n={len(alone)}) with it unmarked at"
                    f" {_rps(unmarked, len(job_ids)):.2f}/s, {u_429} x 429"
                )

                await _quiet_window()
                one_req, one_applied = await drained(
                    emu, base_url, store, seeded, changes, batched=False
                )
                await _quiet_window()
                b_req, b_applied = await drained(
                    emu, base_url, store, seeded, changes, batched=True
                )
                per_before = one_req / max(one_applied, 1)
                per_change = b_req / max(b_applied, 1)
                print(
                    f"drain, each hint re-read alone: {one_req} requests for {one_applied} of"
                    f" {changes} changes = {per_before:.2f} per change"
                )
                print(
                    f"drain, a batch in one list read per kind: {b_req} requests for"
                    f" {b_applied} of {changes} changes = {per_change:.2f} per change"
                    f" ({per_before / per_change:.1f}x fewer)"
                )
        finally:
            await store.close()
    return {
        "requests": total,
        "callers": CALLERS,
        "rps": _rps(now, total),
        "limit_rps": LIMIT_RPS,
        "429s": p_429,
        "failed": now.failed,
        "retaken": paced.retaken,
        "sent_tightest_8_ms": tightest_eight(now.sent),
        "before_rps": _rps(was, total),
        "before_429s": b_429,
        "replicas": REPLICAS,
        "replicas_rps": _rps(spread, total),
        "replicas_429s": x_429,
        "replicas_failed": spread.failed,
        "replicas_retaken": x_retaken,
        "replicas_sent_tightest_8_ms": tightest_eight(spread.sent),
        "baseline_429s": base[429],
        "person_p99_ms": _p99_ms(person),
        "person_p99_ms_unmarked": _p99_ms(alone),
        "person_ratio": round(_p99_ms(alone) / max(_p99_ms(person), 0.1), 1),
        "background_rps": _rps(job, len(job_ids)),
        "background_429s": j_429,
        **figures,
        "changes": changes,
        "changes_applied_before": one_applied,
        "changes_applied": b_applied,
        "requests_per_change_before": round(per_before, 3),
        "requests_per_change": round(per_change, 3),
        "ratio": round(_rps(now, total) / LIMIT_RPS, 3),
        "replicas_ratio": round(_rps(spread, total) / LIMIT_RPS, 3),
        "before_ratio": round(_rps(was, total) / LIMIT_RPS, 3),
    }


def _rps(reads: Reads, total: int) -> float:
    """Reads that succeeded, per second."""
    return round((total - reads.failed) / reads.seconds, 2)


def _say(what: str, reads: Reads, total: int, refused: int, retaken: int | None = None) -> None:
    late = "" if retaken is None else f", {retaken} late turn(s) retaken"
    print(
        f"{what}: {total - reads.failed} of {total} reads in {reads.seconds:.1f}s ="
        f" {_rps(reads, total):.2f}/s, {refused} x 429, {reads.failed} failed{late};"
        f" tightest 8 in a row sent over {tightest_eight(reads.sent)} ms"
    )


def main() -> None:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{SIZE.quick} reads, "
                        f"{CHANGES['quick']} changes ({SIZE.quick_takes})")  # fmt: skip
    parser.add_argument(SIZE.option, type=int, default=None, help=SIZE.what)
    parser.add_argument("--redis", default=None, help="Redis URL for the replicas' pace")
    parser.add_argument("--replica", default=None, help=argparse.SUPPRESS)  # a replica's job
    args = parser.parse_args()
    if args.replica is not None:
        asyncio.run(replica(json.loads(args.replica)))
        return
    total = args.requests or (SIZE.quick if args.quick else SIZE.full)
    changes = CHANGES["quick" if args.quick else "full"]
    print(json.dumps(asyncio.run(run(total, changes, args.redis, quick=args.quick))))


if __name__ == "__main__":
    main()
