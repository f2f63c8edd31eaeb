"""A long run of ``amobridge run`` under a steady stream of amoCRM changes, with faults now and
then: does memory stay flat, do connections and threads stay bounded, does the outbox keep up?

The service is a process of its own (so its memory is its own), on SQLite or Redis; amoCRM and
Telegram are the emulators in this process. Changes come at ``--rate`` per second: mostly a task's
deadline moved, one in ten a new task given by a colleague (an alert). Every ``fault_every_s``
amoCRM answers 429s or 500s, or Telegram answers 429s, for a while. Every ``sample_s`` a line
shows the service's RSS, open sockets, threads, the inbox and outbox depths and the outbox's
oldest waiting item. The baseline is the RSS at the end of the warm-up (a fifth of the run):
``rss_ratio`` is the last sample's RSS over it.

    python bench/soak.py [--quick] [--minutes 60] [--rate 50] [--store redis://127.0.0.1:6379/0]

``--quick`` runs 2 minutes. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from bot.crm import INBOX_QUEUES
from bot.delivery import outbox_queue
from bot.people import ChannelLink, Links
from bot.store import Store, open_store
from sandbox.amocrm import AmoEmulator, seed_demo_account
from sandbox.telegram import TelegramEmulator

POOL = 300  # tasks whose deadlines keep moving
PREFIX = "soak:"


def _proc(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("socket:"))


async def _sample(store: Store, pid: int, started: float) -> dict[str, float]:
    now = time.time()
    oldest = await store.earliest_due(outbox_queue("telegram"))
    return {
        "t_s": round(time.monotonic() - started),
        "rss_mb": round(_proc(pid, "VmRSS") / 1024, 1),
        "sockets": _sockets(pid),
        "threads": _proc(pid, "Threads"),
        "inbox": sum([await store.count_due(queue) for queue in INBOX_QUEUES]),
        "outbox": await store.count_due(outbox_queue("telegram")),
        "outbox_age_s": round(max(0.0, now - oldest), 1) if oldest else 0.0,
    }


async def soak(minutes: float, rate: float, store_url: str | None) -> dict[str, object]:
    workdir = tempfile.mkdtemp(prefix="amobridge-soak-")
    url = store_url or f"sqlite:///{workdir}/soak.db"
    amo = AmoEmulator(subdomain="demo", clock=time.time, rate_limit_per_s=7.0)
    tg = TelegramEmulator(token="123456:SOAK", clock=time.time)
    async with amo.serve(host="127.0.0.1", port=0), tg.serve(host="127.0.0.1", port=0):
        demo = seed_demo_account(amo)
        people = [demo.ivan, demo.maria, demo.oleg, demo.supervisor]
        store = await open_store(url, key_prefix=PREFIX)
        chats = []
        for amo_user in people:
            chat = tg.add_user(first_name=f"User {amo_user}", started=True)
            chats.append(chat)
            await Links(store).link(
                ChannelLink(channel="telegram", amo_user_id=amo_user, account_id=str(chat),
                            chat_id=str(chat), linked_at=int(time.time()))
            )  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
        env |= {
            "PYTHONUNBUFFERED": "1",
            "AMOBRIDGE_AMOCRM__BASE_URL": amo.base_url,
            "AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN": amo.long_lived_token,
            "AMOBRIDGE_AMOCRM__POLL_INTERVAL_S": "5",
            "AMOBRIDGE_TELEGRAM__TOKEN": tg.token,
            "AMOBRIDGE_TELEGRAM__API_BASE": tg.base_url,
            "AMOBRIDGE_STORE_URL": url,
            "AMOBRIDGE_REDIS_KEY_PREFIX": PREFIX,
            "AMOBRIDGE_HTTP__HOST": "127.0.0.1",
            "AMOBRIDGE_HTTP__PORT": "0",
            "AMOBRIDGE_LOG_LEVEL": "WARNING",
        }
        service = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from bot.app.cli import main; main()", "run",
            env=env, cwd=workdir, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert service.stdout is not None
        while not (await asyncio.wait_for(service.stdout.readline(), 30)).startswith(b"HTTP:"):
            pass
        drain = asyncio.create_task(service.stdout.read())  # the pipe must not fill up
        try:
            figures = await _load(amo, tg, store, service.pid, people, demo.admin, minutes, rate)
            return figures | {"messages": sum(len(tg.transcript(chat)) for chat in chats)}
        finally:
            service.terminate()
            await service.wait()
            await drain
            await store.close()


async def _load(
    amo: AmoEmulator,
    tg: TelegramEmulator,
    store: Store,
    pid: int,
    people: list[int],
    colleague: int,
    minutes: float,
    rate: float,
) -> dict[str, object]:
    rng = random.Random(7)
    now = int(time.time())
    pool = [
        amo.add_task(
            f"Soak task {n}",
            responsible_user_id=people[n % len(people)],
            complete_till=now + 3 * 3600 + n * 60,
            by_user=colleague,
        )
        for n in range(POOL)
    ]
    duration = minutes * 60
    sample_s = max(10.0, duration / 30)
    fault_every_s = max(30.0, duration / 12)
    warm_up_s = duration / 5
    started = time.monotonic()
    samples: list[dict[str, float]] = []
    baseline_rss: float | None = None
    changes = faults = 0
    next_sample, next_fault = started + sample_s, started + fault_every_s
    while (elapsed := time.monotonic() - started) < duration:
        if rng.random() < 0.1:
            amo.add_task(f"Soak new {changes}", responsible_user_id=rng.choice(people),
                         complete_till=int(time.time()) + 6 * 3600, by_user=colleague)  # fmt: skip
        else:
            shift = rng.randrange(60, 7200)
            amo.update_task(rng.choice(pool), complete_till=int(time.time()) + 3600 + shift,
                            by_user=colleague)  # fmt: skip
        changes += 1
        if time.monotonic() >= next_fault:
            kind = faults % 3
            if kind == 0:
                amo.faults.add("429", count=40)
            elif kind == 1:
                amo.faults.add("500", count=15)
            else:
                tg.faults.add("429", count=30, retry_after=2)
            faults += 1
            next_fault += fault_every_s
        if time.monotonic() >= next_sample:
            sample = await _sample(store, pid, started)
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            if baseline_rss is None and elapsed >= warm_up_s:
                baseline_rss = sample["rss_mb"]
            next_sample += sample_s
        await asyncio.sleep(1 / rate)
    last = await _sample(store, pid, started)
    print(json.dumps(last), flush=True)
    if baseline_rss is None:
        baseline_rss = samples[0]["rss_mb"] if samples else last["rss_mb"]
    base = baseline_rss
    return {
        "minutes": minutes,
        "changes": changes,
        "changes_per_s": round(changes / (time.monotonic() - started), 1),
        "faults": faults,
        "baseline_rss_mb": base,
        "rss_mb": last["rss_mb"],
        "rss_ratio": round(last["rss_mb"] / base, 3) if base else None,
        "max_sockets": max(s["sockets"] for s in [*samples, last]),
        "max_threads": max(s["threads"] for s in [*samples, last]),
        "max_outbox_age_s": max(s["outbox_age_s"] for s in [*samples, last]),
        "max_inbox": max(s["inbox"] for s in [*samples, last]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes")
    parser.add_argument("--minutes", type=float, default=None, help="how long (default 60)")
    parser.add_argument("--rate", type=float, default=50.0, help="amoCRM changes per second")
    parser.add_argument("--store", default=None, help="a redis:// URL (default: SQLite)")
    args = parser.parse_args()
    minutes = args.minutes or (2.0 if args.quick else 60.0)
    print(json.dumps(asyncio.run(soak(minutes, args.rate, args.store))))


if __name__ == "__main__":
    main()
