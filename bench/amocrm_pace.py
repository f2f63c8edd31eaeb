"""Requests/s the amoCRM client achieves under amoCRM's 7 requests/s limit, and its 429s.

The amoCRM emulator runs in this process on loopback with its 7/s limit and the seeded demo
account. The same N task reads are made by 50 concurrent callers three ways:

- baseline: unpaced, one try each (plain httpx): how many amoCRM would refuse;
- retry only: our client without a pacer (its 429 backoff alone): 429s, failures, rate;
- paced: our client with ``StorePacer`` on a temporary SQLite store (the default 6/s).

    python bench/amocrm_pace.py [--quick]

``ratio`` is the paced rate over the limit. The last line printed is one JSON object.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from common import Sized

from bot.store import SqliteStore
from integrations.amocrm import AmoClient, AmoError, LongLivedTokenAuth, NoPacing, StorePacer
from integrations.amocrm.pacing import Pacer
from sandbox.amocrm import AmoEmulator, seed_demo_account

LIMIT_RPS = 7.0
CALLERS = 50
SIZE = Sized("--requests", "reads per run", quick=60, full=300, quick_takes="under a minute")


async def _callers(jobs: list[int], work: Callable[[int], Awaitable[None]]) -> float:
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


async def through_client(
    emu: AmoEmulator, base_url: str, pacer: Pacer, ids: list[int]
) -> tuple[float, int, int]:
    """(seconds, 429s seen by amoCRM, requests that failed) for the reads through AmoClient."""
    failed = 0
    start = len(emu.request_log)
    async with AmoClient(
        base_url, auth=LongLivedTokenAuth(emu.long_lived_token), pacer=pacer
    ) as amo:

        async def one(task_id: int) -> None:
            nonlocal failed
            try:
                await amo.task(task_id)
            except AmoError:
                failed += 1

        seconds = await _callers(ids, one)
    refused = sum(r.status == 429 for r in emu.request_log[start:])
    return seconds, refused, failed


async def run(total: int) -> dict[str, float | int]:
    emu = AmoEmulator(subdomain="demo", rate_limit_per_s=LIMIT_RPS)
    seed_demo_account(emu)
    with tempfile.TemporaryDirectory(prefix="amobridge-bench-") as tmp:
        store = await SqliteStore.open(str(Path(tmp) / "pace.db"))
        try:
            async with emu.serve(host="127.0.0.1", port=0) as base_url:
                async with AmoClient(
                    base_url,
                    auth=LongLivedTokenAuth(emu.long_lived_token),
                    pacer=StorePacer(store),
                ) as amo:
                    seeded = [t.id for t in await amo.tasks()]
                ids = [seeded[n % len(seeded)] for n in range(total)]

                await _quiet_window()
                base = await baseline(base_url, emu.long_lived_token, ids)
                print(f"baseline (unpaced, one try): {dict(sorted(base.items()))}")

                await _quiet_window()
                r_s, r_429, r_failed = await through_client(emu, base_url, NoPacing(), ids)
                print(
                    f"retry only (no pacer): {total - r_failed} of {total} reads in {r_s:.1f}s"
                    f" = {(total - r_failed) / r_s:.2f}/s, {r_429} x 429, {r_failed} failed"
                )

                await _quiet_window()
                p_s, p_429, p_failed = await through_client(emu, base_url, StorePacer(store), ids)
                print(
                    f"paced (StorePacer, 6/s): {total - p_failed} of {total} reads in {p_s:.1f}s"
                    f" = {(total - p_failed) / p_s:.2f}/s, {p_429} x 429, {p_failed} failed"
                )
        finally:
            await store.close()
    rps = (total - p_failed) / p_s  # reads that succeeded, per second
    return {
        "requests": total,
        "callers": CALLERS,
        "rps": round(rps, 2),
        "limit_rps": LIMIT_RPS,
        "429s": p_429,
        "failed": p_failed,
        "baseline_429s": base[429],
        "retry_only_rps": round((total - r_failed) / r_s, 2),
        "retry_only_429s": r_429,
        "retry_only_failed": r_failed,
        "ratio": round(rps / LIMIT_RPS, 3),
    }


if __name__ == "__main__":
    SIZE.main(__doc__, run)
