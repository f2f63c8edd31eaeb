"""``amobridge run`` killed with SIGKILL again and again while amoCRM changes stream in: each
change still reaches its manager, on SQLite and on Redis, and once, but for the one window that
Telegram leaves open (ARCHITECTURE.md, "the send window"): its Bot API cannot be read back, so a
message Telegram took just before a kill, whose item the dead process had not completed, is sent
again. The test allows a second copy only of such a message (taken in the two seconds before a
kill), at most one per kill; nothing else may come twice. Slack looks first (test_send_window).

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
from bot.crm.ingest import INBOX_QUEUES, listener_queue
from bot.delivery.outbox import outbox_queue
from bot.people.links import ChannelLink, Links
from bot.store import Store, open_store
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import ChatMessage, TelegramEmulator
from tests.e2e.processes import ServiceProcess, queues_empty, service_env

CHANGES = 24
KILL_AFTER = (6, 12, 18)  # changes made before each kill
LISTENERS = ("metrics", "reminders", "alerts", "deal-scans")
WINDOW_S = 2  # a copy taken this long before a kill may be in the send window (dates: seconds)


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    """Messages dated by the wall clock, so that each copy can be placed against the kills."""
    emulator = TelegramEmulator(token="123456:TEST-TOKEN", clock=time.time)
    async with emulator.serve(host="127.0.0.1", port=0):
        yield emulator


@pytest.fixture(params=["sqlite", "redis"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crash.db"
    else:
        yield str(request.getfixturevalue("redis_server_url"))


async def idle(store: Store) -> bool:
    """Nothing left to do: no hint, no listener's event and no message waiting."""
    queues = [*INBOX_QUEUES, outbox_queue("telegram"), *map(listener_queue, LISTENERS)]
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
        env = service_env(
            amo.base_url, amo.long_lived_token, store_url, redis_prefix,
            AMOBRIDGE_AMOCRM__POLL_INTERVAL_S="1",
            AMOBRIDGE_AMOCRM__LISTENER_HOLD_S="2",
            AMOBRIDGE_TELEGRAM__TOKEN=tg.token,
            AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url,
        )  # fmt: skip
        service = ServiceProcess(env, tmp_path)
        await service.start()
        # The events poll's first run starts its cursor: from then on every change is news.
        for _ in range(300):
            if await store.get_cursor(POLL_CURSOR) is not None:
                break
            await asyncio.sleep(0.1)
        kills: list[float] = []
        try:
            tomorrow = int(time.time()) + 86_400
            for n in range(1, CHANGES + 1):
                amo.add_task(f"Crash call {n:02d}", responsible_user_id=managers[n % 3],
                             complete_till=tomorrow, by_user=demo.admin)  # fmt: skip
                await asyncio.sleep(0.15)
                if n in KILL_AFTER:
                    kills.append(time.time())
                    await service.kill()
                    await service.start()

            def copies() -> dict[tuple[int, str], list[ChatMessage]]:
                found: dict[tuple[int, str], list[ChatMessage]] = {}
                for amo_user, chat in chats.items():
                    for m in tg.transcript(chat):
                        for n in range(1, CHANGES + 1):
                            if m.from_bot and f"Crash call {n:02d}" in m.text:
                                found.setdefault((amo_user, f"Crash call {n:02d}"), []).append(m)
                return found

            def told() -> Counter[tuple[int, str]]:
                return Counter({key: len(sent) for key, sent in copies().items()})

            # A killed process's claims come back after their leases: wait for all of it.
            deadline = time.monotonic() + 240
            while len(told()) < CHANGES or not await idle(store):
                assert time.monotonic() < deadline, f"told {sorted(told())}"
                await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(ProcessLookupError):
                await service.stop()

        expected = {(managers[n % 3], f"Crash call {n:02d}") for n in range(1, CHANGES + 1)}
        assert set(told()) == expected  # none lost
        doubled = {key: sent for key, sent in copies().items() if len(sent) > 1}
        assert len(doubled) <= len(kills), f"more second copies than kills: {sorted(doubled)}"
        for key, sent in doubled.items():
            first = sent[0].date
            assert len(sent) == 2, f"{key} came {len(sent)} times"
            assert any(int(kill) - WINDOW_S <= first <= kill for kill in kills), (
                f"{key} came twice, its first copy not taken just before a kill"
            )
    finally:
        await store.close()
