"""``amobridge run`` killed with SIGKILL again and again while amoCRM changes stream in: each
change still reaches its manager once, never twice, on SQLite and on Redis.

The service runs as a real process (so the kill is real) against the emulators in this one; the
changes come in by the events poll, as after any outage. They go to three managers in turn: one
chat alone would only make the test wait out Telegram's pace of one message a second per chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.crm.catchup import POLL_CURSOR
from bot.crm.ingest import INBOX_QUEUE, listener_queue
from bot.delivery.outbox import outbox_queue
from bot.people.links import ChannelLink, Links
from bot.store import Store, open_store
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.processes import ServiceProcess, queues_empty, run_env

CHANGES = 24
KILL_AFTER = (6, 12, 18)  # changes made before each kill
LISTENERS = ("metrics", "reminders", "alerts", "deal-scans")


@pytest.fixture(params=["sqlite", "redis"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crash.db"
    else:
        yield str(request.getfixturevalue("redis_server_url"))


async def idle(store: Store) -> bool:
    """Nothing left to do: no hint, no listener's event and no message waiting."""
    queues = [INBOX_QUEUE, outbox_queue("telegram"), *map(listener_queue, LISTENERS)]
    return await queues_empty(store, queues)


async def test_changes_reach_the_manager_once_each_through_kills(
    amo: AmoEmulator,
    demo: DemoIds,
    tg: TelegramEmulator,
    store_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    managers = [demo.ivan, demo.maria, demo.oleg]
    chats = {amo_user: tg.add_user(first_name=f"Manager {amo_user}", language_code="en",
                                   started=True) for amo_user in managers}  # fmt: skip
    store = await open_store(store_url, key_prefix=redis_prefix)
    try:
        for amo_user, chat in chats.items():
            await Links(store).link(
                ChannelLink(channel="telegram", amo_user_id=amo_user, account_id=str(chat),
                            chat_id=str(chat), linked_at=int(time.time()))
            )  # fmt: skip
        env = run_env(
            AMOBRIDGE_AMOCRM__BASE_URL=amo.base_url,
            AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN=amo.long_lived_token,
            AMOBRIDGE_AMOCRM__POLL_INTERVAL_S="1",
            AMOBRIDGE_AMOCRM__LISTENER_HOLD_S="2",
            AMOBRIDGE_TELEGRAM__TOKEN=tg.token,
            AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url,
            AMOBRIDGE_STORE_URL=store_url,
            AMOBRIDGE_REDIS_KEY_PREFIX=redis_prefix,
            AMOBRIDGE_HTTP__HOST="127.0.0.1",
            AMOBRIDGE_HTTP__PORT="0",
        )
        service = ServiceProcess(env, tmp_path)
        await service.start()
        # The events poll's first run starts its cursor: from then on every change is news.
        for _ in range(300):
            if await store.get_cursor(POLL_CURSOR) is not None:
                break
            await asyncio.sleep(0.1)
        try:
            tomorrow = int(time.time()) + 86_400
            for n in range(1, CHANGES + 1):
                amo.add_task(f"Crash call {n:02d}", responsible_user_id=managers[n % 3],
                             complete_till=tomorrow, by_user=demo.admin)  # fmt: skip
                await asyncio.sleep(0.15)
                if n in KILL_AFTER:
                    await service.kill()
                    await service.start()

            def told() -> Counter[tuple[int, str]]:
                return Counter(
                    (amo_user, f"Crash call {n:02d}")
                    for amo_user, chat in chats.items()
                    for m in tg.transcript(chat)
                    if m.from_bot
                    for n in range(1, CHANGES + 1)
                    if f"Crash call {n:02d}" in m.text
                )

            # A killed process's claims come back after their leases: wait for all of it.
            deadline = time.monotonic() + 240
            while len(told()) < CHANGES or not await idle(store):
                assert time.monotonic() < deadline, f"told {sorted(told())}"
                await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(ProcessLookupError):
                await service.stop()

        assert told() == Counter(
            {(managers[n % 3], f"Crash call {n:02d}"): 1 for n in range(1, CHANGES + 1)}
        )
    finally:
        await store.close()
