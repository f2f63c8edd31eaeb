"""Webhooks/s accepted by ``POST /amocrm/webhook/{secret}``, next to a bare aiohttp handler.

Both servers run in this process on loopback and get the same load from the same client (N
concurrent senders posting a realistic two-entity webhook), so the ratio is what the figure means:
the share of raw aiohttp throughput that survives checking, parsing and durably queuing a hint.

    python bench/ingest.py [--quick] [--store redis://127.0.0.1:6379/0]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from bot.app import AmoCrmSettings, HttpSettings, Settings, running_service

SECRET = "bench-secret"


def webhook_body(n: int) -> bytes:
    return (
        "account[subdomain]=bench&account[id]=1&account[_links][self]=https://bench.amocrm.ru"
        f"&leads[status][0][id]={n}&leads[status][0][status_id]=142"
        "&leads[status][0][old_status_id]=100&leads[status][0][pipeline_id]=10"
        "&leads[status][0][old_pipeline_id]=10&leads[status][0][price]=150000"
        "&leads[status][0][responsible_user_id]=7&leads[status][0][last_modified]=1700000000"
        f"&task[update][0][id]={n}&task[update][0][element_id]={n}&task[update][0][element_type]=2"
        "&task[update][0][status]=1&task[update][0][action_close]=1"
        "&task[update][0][result][text]=Called back&task[update][0][complete_till]=1700003600"
    ).encode()


async def load(url: str, total: int, concurrency: int) -> tuple[float, list[float], int]:
    """Send ``total`` webhooks from ``concurrency`` senders; (seconds, latencies, non-2xx)."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(total))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for n in counter:
            started = time.perf_counter()
            async with session.post(url, data=webhook_body(n + 1), headers=headers) as resp:
                await resp.read()
                if resp.status >= 300:
                    failures += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, failures


async def bare_server() -> tuple[web.AppRunner, str]:
    async def receive(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.json_response({"accepted": 2})

    app = web.Application()
    app.add_routes([web.post("/amocrm/webhook/{secret}", receive)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/amocrm/webhook/{SECRET}"


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values)


async def measure(
    name: str, run: Callable[[], Awaitable[tuple[float, list[float], int]]], total: int
) -> dict[str, float]:
    elapsed, latencies, failures = await run()
    figures = {
        "per_s": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(p99(latencies) * 1000, 2),
        "failures": failures,
    }
    print(
        f"{name:<28} {figures['per_s']:>8.1f}/s  p50 {figures['p50_ms']:.2f} ms  "
        f"p99 {figures['p99_ms']:.2f} ms  non-2xx {failures}"
    )
    return figures


async def main(total: int, concurrency: int, store_url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            amocrm=AmoCrmSettings(
                # Never contacted: the jobs that would read amoCRM are not started.
                base_url="http://127.0.0.1:9",
                long_lived_token="unused",
                webhook_secret=SECRET,
            ),
            http=HttpSettings(host="127.0.0.1", port=0),
            store_url=store_url or f"sqlite:///{tmp}/bench.db",
            redis_key_prefix=f"bench:{time.time_ns()}:",
        )
        runner, bare_url = await bare_server()
        try:
            async with running_service(settings, run_jobs=False) as service:
                url = f"{service.base_url}/amocrm/webhook/{SECRET}"
                # Warm both paths (connections, SQLite pages) before measuring.
                await load(bare_url, 200, concurrency)
                await load(url, 200, concurrency)
                bare = await measure(
                    "bare aiohttp handler", lambda: load(bare_url, total, concurrency), total
                )
                ours = await measure(
                    "/amocrm/webhook (stored)", lambda: load(url, total, concurrency), total
                )
                assert service.crm is not None
                queued = await service.crm.inbox.depth()
        finally:
            await runner.cleanup()
    return {
        "webhooks_per_s": ours["per_s"],
        "bare_per_s": bare["per_s"],
        "ratio": round(ours["per_s"] / bare["per_s"], 2),
        "p99_ms": ours["p99_ms"],
        "non_2xx": ours["failures"],
        "hints_queued": queued,
        "store": (store_url or "sqlite").split(":", 1)[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (seconds)")
    parser.add_argument("--store", default=None, help="store URL (default: a temp SQLite file)")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    result = asyncio.run(main(2_000 if args.quick else 20_000, args.concurrency, args.store))
    print(json.dumps(result))
    sys.exit(0 if result["non_2xx"] == 0 else 1)
