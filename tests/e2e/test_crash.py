"""``amobridge run`` killed with SIGKILL again and again while amoCRM changes stream in: each
change still reaches the manager once, never twice, on SQLite and on Redis.

The service runs as a real process (so the kill is real) against the emulators in this one; the
changes come in by the events poll, as after any outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
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

CHANGES = 24
KILL_AFTER = (6, 12, 18)  # changes made before each kill
LISTENERS = ("metrics", "reminders", "alerts", "deal-scans")


@pytest.fixture(params=["sqlite", "redis"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crash.db"
    else:
        yield str(request.getfixturevalue("redis_server_url"))


class Service:
    """``amobridge run`` as a process that can be killed and started again."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._env, self._cwd = env, cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from bot.app.cli import main; main()", "run",
            env=self._env, cwd=self._cwd,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=30)
            assert line, "amobridge run exited early"
            if line.startswith(b"HTTP:"):
                break
        # Keep reading, or a full pipe would stall the service's prints.
        asyncio.get_running_loop().create_task(self._drain(self.proc))

    @staticmethod
    async def _drain(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while await proc.stdout.readline():
            pass

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), timeout=30)


async def idle(store: Store) -> bool:
    """Nothing left to do: no hint, no listener's event and no message waiting."""
    queues = [INBOX_QUEUE, outbox_queue("telegram"), *map(listener_queue, LISTENERS)]
    counts = [await store.count_due(queue) for queue in queues]
    return sum(counts) == 0


async def test_changes_reach_the_manager_once_each_through_kills(
    amo: AmoEmulator,
    demo: DemoIds,
    tg: TelegramEmulator,
    store_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    ivan = tg.add_user(first_name="Ivan", language_code="en", started=True)
    store = await open_store(store_url, key_prefix=redis_prefix)
    try:
        await Links(store).link(
            ChannelLink(channel="telegram", amo_user_id=demo.ivan, account_id=str(ivan),
                        chat_id=str(ivan), linked_at=int(time.time()))
        )  # fmt: skip
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")},
            "PYTHONUNBUFFERED": "1",
            "AMOBRIDGE_AMOCRM__BASE_URL": amo.base_url,
            "AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN": amo.long_lived_token,
            "AMOBRIDGE_AMOCRM__POLL_INTERVAL_S": "1",
            "AMOBRIDGE_AMOCRM__LISTENER_HOLD_S": "2",
            "AMOBRIDGE_TELEGRAM__TOKEN": tg.token,
            "AMOBRIDGE_TELEGRAM__API_BASE": tg.base_url,
            "AMOBRIDGE_STORE_URL": store_url,
            "AMOBRIDGE_REDIS_KEY_PREFIX": redis_prefix,
            "AMOBRIDGE_HTTP__HOST": "127.0.0.1",
            "AMOBRIDGE_HTTP__PORT": "0",
        }
        service = Service(env, tmp_path)
        await service.start()
        # The events poll's first run starts its cursor: from then on every change is news.
        for _ in range(300):
            if await store.get_cursor(POLL_CURSOR) is not None:
                break
            await asyncio.sleep(0.1)
        try:
            tomorrow = int(time.time()) + 86_400
            for n in range(1, CHANGES + 1):
                amo.add_task(f"Crash call {n:02d}", responsible_user_id=demo.ivan,
                             complete_till=tomorrow, by_user=demo.admin)  # fmt: skip
                await asyncio.sleep(0.15)
                if n in KILL_AFTER:
                    await service.kill()
                    await service.start()

            def told() -> Counter[str]:
                return Counter(
                    f"Crash call {n:02d}"
                    for m in tg.transcript(ivan)
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

        assert told() == Counter({f"Crash call {n:02d}": 1 for n in range(1, CHANGES + 1)})
    finally:
        await store.close()
