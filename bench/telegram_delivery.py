"""Messages/s the outbox achieves to Telegram under its 30 msg/s limit, its 429s, and how long a
notification waits in the outbox.

The Telegram emulator runs in this process on loopback with Telegram's limits on (1/s per chat
with a burst of 3, 30/s in all). N task cards for 300 users who started the bot are enqueued in
one go through ``Outbox`` and drained by one ``OutboxSender`` (in the service's ``DrainLoop``)
with ``TELEGRAM_LIMITS`` on a temporary SQLite store, through ``TelegramNotifier`` and a real
aiogram ``Bot``. Baseline, in the same run on a fresh emulator: the same messages sent with plain
concurrent ``bot.send_message`` calls, no pacing, one try each.

    python bench/telegram_delivery.py [--quick]

Latency is from the enqueue to the moment the emulator took the message. ``fraction_of_limit``
is the paced rate over 30/s. The last line printed is one JSON object.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from common import Sized

from bot.core import Button, SystemClock, TaskCard
from bot.delivery import DeliveryError, Outbox, OutboxItem, OutboxSender, outbox_queue
from bot.store import SqliteStore
from integrations.telegram import TELEGRAM_LIMITS, TelegramNotifier, render_card
from sandbox.telegram import RequestRecord, TelegramEmulator
from scheduler.runner import DrainLoop

LIMIT_PER_S = 30.0
CHATS = 300
SEED = 20261122
SIZE = Sized("--messages", "messages per run", quick=600, full=2000, quick_takes="under a minute")


def card(n: int) -> TaskCard:
    task_id = 1000 + n
    return TaskCard(
        task_id=task_id, heading="⏰ Due in 15 min", type_name="Call",
        text=f"Call back about invoice #{n} & the <delivery> date", due_text="today 15:00",
        deal_name=f"ACME #{n}", deal_url=f"https://demo.amocrm.ru/leads/detail/{5000 + n}",
        rows=(
            (Button(label="✔ Complete", payload=f"t:c:{task_id}", primary=True),
             Button(label="Snooze", payload=f"t:s:{task_id}")),
        ),
    )  # fmt: skip


def plan(chats: list[int], total: int) -> list[tuple[int, TaskCard]]:
    """(chat, card) for each message: every chat gets its share (total / chats, give or take
    one), in a shuffled order."""
    order = [chats[n % len(chats)] for n in range(total)]
    random.Random(SEED).shuffle(order)
    return [(chat, card(n)) for n, chat in enumerate(order)]


@asynccontextmanager
async def emulator() -> AsyncIterator[tuple[TelegramEmulator, Bot, list[int]]]:
    tg = TelegramEmulator(rate_limits=True)
    chats = [tg.add_user(f"User {n}", started=True) for n in range(CHATS)]
    async with tg.serve(host="127.0.0.1", port=0) as url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        try:
            yield tg, Bot(tg.token, session=session), chats
        finally:
            await session.close()


def chat_gaps(delivered: list[RequestRecord]) -> list[float]:
    """Seconds between consecutive messages to the same chat, as the emulator took them."""
    by_chat: dict[int | None, list[float]] = defaultdict(list)
    for record in delivered:
        by_chat[record.chat_id].append(record.at)
    return [b - a for ats in by_chat.values() for a, b in itertools.pairwise(sorted(ats))]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


async def paced(total: int) -> dict[str, float | int]:
    async with emulator() as (tg, bot, chats):
        with tempfile.TemporaryDirectory(prefix="amobridge-bench-") as tmp:
            store = await SqliteStore.open(str(Path(tmp) / "outbox.db"))
            clock = SystemClock()
            outbox = Outbox(store, clock)
            failed: list[DeliveryError] = []

            async def on_permanent(item: OutboxItem, error: DeliveryError) -> None:
                failed.append(error)

            sender = OutboxSender(
                "telegram", TelegramNotifier(bot), TELEGRAM_LIMITS, store=store, outbox=outbox,
                clock=clock, on_permanent_failure=on_permanent,
            )  # fmt: skip
            loop = DrainLoop("outbox:telegram", sender.pump, sender.wait)
            items = [
                OutboxItem(channel="telegram", chat_id=str(chat), subject=f"task:{c.task_id}",
                           card=c)
                for chat, c in plan(chats, total)
            ]  # fmt: skip
            try:
                loop.start()
                enqueued_at = time.time()
                await outbox.enqueue(items)
                queued_s = time.time() - enqueued_at
                while sender.delivered + len(failed) < total:
                    await asyncio.sleep(0.05)
                    if sender.delivered == 0 and time.time() - enqueued_at > 30:
                        raise RuntimeError("nothing delivered in 30 s")
            finally:
                await loop.stop()
                left = await store.count_due(outbox_queue("telegram"))
                await store.close()
    delivered = [r for r in tg.request_log if r.method == "sendMessage" and r.status == 200]
    taken = [r.at for r in delivered]
    waits = sorted(at - enqueued_at for at in taken)
    seconds = max(taken) - enqueued_at
    gaps = chat_gaps(delivered)
    print(
        f"paced (OutboxSender, TELEGRAM_LIMITS): {len(taken)} of {total} in {seconds:.1f}s"
        f" = {len(taken) / seconds:.2f}/s; {tg.stats.too_many_requests} x 429,"
        f" {len(failed)} failed for good, {left} left; enqueue took {queued_s * 1000:.0f} ms;"
        f" enqueue to delivered p50 {percentile(waits, 50):.1f}s p99 {percentile(waits, 99):.1f}s;"
        f" closest two sends to one chat {min(gaps, default=0):.3f}s,"
        f" {sum(g < 1.0 for g in gaps)} of {len(gaps)} under 1 s"
    )
    return {
        "delivered": len(taken),
        "seconds": round(seconds, 2),
        "msg_per_s": round(len(taken) / seconds, 2),
        "429s": tg.stats.too_many_requests,
        "failed": len(failed),
        "p50_s": round(percentile(waits, 50), 2),
        "p99_s": round(percentile(waits, 99), 2),
        "min_chat_gap_s": round(min(gaps, default=0), 3),
        "chat_gaps_under_1s": sum(g < 1.0 for g in gaps),
    }


async def baseline(total: int) -> dict[str, float | int]:
    outcomes: Counter[str] = Counter()
    async with emulator() as (tg, bot, chats):

        async def one(chat: int, shown: TaskCard) -> None:
            rendered = render_card(shown)
            try:
                await bot.send_message(
                    chat, rendered.html, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
                )
            except TelegramRetryAfter:
                outcomes["429"] += 1
            except Exception as exc:
                outcomes[type(exc).__name__] += 1
            else:
                outcomes["ok"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(chat, c) for chat, c in plan(chats, total)))
        seconds = time.perf_counter() - started
        refused = tg.stats.too_many_requests
    print(
        f"baseline (concurrent send_message, no pacing, one try): {outcomes['ok']} of {total}"
        f" delivered in {seconds:.1f}s, {refused} x 429, {total - outcomes['ok']} failed"
        f" {dict(sorted(outcomes.items()))}"
    )
    return {"ok": outcomes["ok"], "429s": refused, "failed": total - outcomes["ok"]}


async def run(total: int) -> dict[str, float | int]:
    ours = await paced(total)
    base = await baseline(total)
    return {
        "messages": total,
        "chats": CHATS,
        "msg_per_s": ours["msg_per_s"],
        "fraction_of_limit": round(float(ours["msg_per_s"]) / LIMIT_PER_S, 3),
        "429s": ours["429s"],
        "failed": ours["failed"],
        "p50_s": ours["p50_s"],
        "p99_s": ours["p99_s"],
        "min_chat_gap_s": ours["min_chat_gap_s"],
        "chat_gaps_under_1s": ours["chat_gaps_under_1s"],
        "baseline_429s": base["429s"],
        "baseline_failed": base["failed"],
        "baseline_delivered": base["ok"],
    }


if __name__ == "__main__":
    SIZE.main(__doc__, run)
