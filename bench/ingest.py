"""Webhooks/s accepted by ``POST /amocrm/webhook/{secret}``, next to a bare aiohttp handler.

Both servers run in this process on loopback and get the same load from the same client (N
concurrent senders posting a realistic two-entity webhook), so the ratio is what the figure means:
the share of raw aiohttp throughput that survives checking, parsing and durably queuing a hint.

Each store is measured in rounds, the bare handler and ours back to back in each (the order
alternating), and the ratio reported is the median of the rounds' ratios: on a shared, loaded
machine a neighbour's burst then spoils one round, not the figure. Both stores are measured in
one run, SQLite (a temporary file) and Redis (a private redis-server on a free port, append-only
file fsynced every second as in docker-compose.yml); ``ratio`` is the lower of the two.

    python bench/ingest.py [--quick] [--store URL | --redis URL] [--rounds N]

``--store`` measures that store alone; ``--redis`` uses that Redis instead of starting one. The
last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

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


class Load:
    """Sends webhooks from ``concurrency`` senders; entity ids keep growing across runs, so
    every webhook is a new hint (none is merged into one still queued)."""

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._next_id = 1

    async def run(self, url: str, total: int) -> tuple[float, list[float], int]:
        """(seconds, latencies, non-2xx) of ``total`` webhooks."""
        latencies: list[float] = []
        failures = 0
        counter = iter(range(self._next_id, self._next_id + total))
        self._next_id += total
        headers = {"Content-Type": "application/x-www-form-urlencoded"}

        async def sender(session: aiohttp.ClientSession) -> None:
            nonlocal failures
            for n in counter:
                started = time.perf_counter()
                async with session.post(url, data=webhook_body(n), headers=headers) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        failures += 1
                latencies.append(time.perf_counter() - started)

        connector = aiohttp.TCPConnector(limit=self._concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            started = time.perf_counter()
            await asyncio.gather(*(sender(session) for _ in range(self._concurrency)))
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


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of this run's own on a free loopback port; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed: give --redis URL, or --store sqlite:///…")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec"]  # fmt: skip
        proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        sys.exit("the private redis-server did not start")
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


async def measure_store(
    store_url: str, bare_url: str, load: Load, total: int, rounds: int
) -> dict[str, object]:
    name = store_url.split(":", 1)[0]
    settings = Settings(
        _env_file=None,
        amocrm=AmoCrmSettings(
            # Never contacted: the jobs that would read amoCRM are not started.
            base_url="http://127.0.0.1:9",
            long_lived_token="unused",
            webhook_secret=SECRET,
        ),
        http=HttpSettings(host="127.0.0.1", port=0),
        store_url=store_url,
        redis_key_prefix=f"bench:{time.time_ns()}:",
    )
    per_round = max(total // rounds, 100)
    bare_rates: list[float] = []
    our_rates: list[float] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    latencies: list[float] = []
    failures = 0
    async with running_service(settings, run_jobs=False) as service:
        url = f"{service.base_url}/amocrm/webhook/{SECRET}"
        # Warm both paths (connections, SQLite pages) before measuring.
        await load.run(bare_url, 200)
        await load.run(url, 200)
        for index in range(rounds):
            order = [bare_url, url] if index % 2 == 0 else [url, bare_url]
            elapsed: dict[str, float] = {}
            cpu: dict[str, float] = {}
            for target in order:
                cpu_started = time.process_time()
                seconds, lat, failed = await load.run(target, per_round)
                cpu[target] = time.process_time() - cpu_started
                elapsed[target] = seconds
                if target == url:
                    latencies += lat
                    failures += failed
            bare_rates.append(per_round / elapsed[bare_url])
            our_rates.append(per_round / elapsed[url])
            ratios.append(elapsed[bare_url] / elapsed[url])
            cpu_ratios.append(cpu[bare_url] / cpu[url])
        assert service.crm is not None
        queued = await service.crm.inbox.depth()
    figures: dict[str, object] = {
        "webhooks_per_s": round(statistics.median(our_rates), 1),
        "bare_per_s": round(statistics.median(bare_rates), 1),
        "ratio": round(statistics.median(ratios), 2),
        "ratios": [round(r, 2) for r in ratios],
        # The same from this process's CPU time (client, both servers, SQLite's thread; not
        # redis-server's): steadier than wall time when neighbours load the machine.
        "cpu_ratio": round(statistics.median(cpu_ratios), 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(p99(latencies) * 1000, 2),
        "non_2xx": failures,
        "hints_queued": queued,
    }
    print(
        f"{name:<7} bare {statistics.median(bare_rates):>7.0f}/s"
        f"  webhook {statistics.median(our_rates):>7.0f}/s  ratio {figures['ratio']:.2f}"
        f" (rounds {' '.join(f'{r:.2f}' for r in ratios)})  cpu ratio {figures['cpu_ratio']:.2f}"
        f"  p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms  non-2xx {failures}"
    )
    return figures


async def main(
    total: int, rounds: int, concurrency: int, store: str | None, redis: str | None
) -> dict[str, object]:
    load = Load(concurrency)
    runner, bare_url = await bare_server()
    stores: dict[str, dict[str, object]] = {}
    try:
        with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
            urls = [store] if store else [f"sqlite:///{tmp}/bench.db", redis or ""]
            for url in urls:
                if not url:
                    url = stack.enter_context(private_redis())
                stores[url.split(":", 1)[0]] = await measure_store(
                    url, bare_url, load, total, rounds
                )
    finally:
        await runner.cleanup()
    lowest = min(stores, key=lambda name: float(str(stores[name]["ratio"])))
    return {
        "ratio": stores[lowest]["ratio"],
        "lowest": lowest,
        "webhooks_per_s": stores[lowest]["webhooks_per_s"],
        "bare_per_s": stores[lowest]["bare_per_s"],
        "non_2xx": sum(int(str(s["non_2xx"])) for s in stores.values()),
        "stores": stores,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--store", default=None, help="measure this store URL alone")
    chosen.add_argument("--redis", default=None, help="the Redis to use (default: a private one)")
    parser.add_argument("--rounds", type=int, default=None, help="bare/ours pairs per store")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    rounds = args.rounds or (11 if args.quick else 21)
    total = 5_500 if args.quick else 42_000
    result = asyncio.run(main(total, rounds, args.concurrency, args.store, args.redis))
    print(json.dumps(result))
    sys.exit(0 if result["non_2xx"] == 0 else 1)
