"""Three replicas on one Redis, a thousand reminders due within a minute, one replica killed with
SIGKILL while they go out: every reminder still reaches its manager once, never twice.

The reminders fall due once the replicas have had time to start and read the tasks; the rest of
the time goes to sending them at Telegram's pace (30 a second)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from bot.crm.ingest import INBOX_QUEUES
from bot.delivery.outbox import outbox_queue
from bot.people.links import ChannelLink, Links
from bot.store import open_store
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import free_port
from tests.e2e.processes import ServiceProcess, queues_empty, run_env, warm_up

MANAGERS = 50
TASKS_EACH = 20  # 1,000 reminders
KILL_AT = 150  # reminders delivered before the third replica is killed
SETUP_S = 35  # seconds to start three replicas and sync the tasks (24 s seen under load)


async def test_a_thousand_reminders_go_out_once_each_when_a_replica_dies(
    amo: AmoEmulator,
    demo: DemoIds,
    tg: TelegramEmulator,
    redis_server_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    await warm_up()  # the replicas' one-off import is not part of the time they are given
    store = await open_store(redis_server_url, key_prefix=redis_prefix)
    replicas: list[ServiceProcess] = []
    try:
        chats: dict[int, int] = {}
        for n in range(MANAGERS):
            amo_user = amo.add_user(f"Manager {n:02d}", f"m{n:02d}@demo.example", lang="en")
            chats[amo_user] = tg.add_user(first_name=f"Manager {n:02d}", started=True)
            await Links(store).link(
                ChannelLink(channel="telegram", amo_user_id=amo_user,
                            account_id=str(chats[amo_user]), chat_id=str(chats[amo_user]),
                            linked_at=int(time.time()))
            )  # fmt: skip
        # Each task's 15-minute reminder falls due 35 to 65 seconds from now: time enough to start
        # three replicas and sync a thousand tasks on a loaded machine.
        setup_until = time.time() + SETUP_S
        soon = int(setup_until) + 15 * 60
        for n, amo_user in enumerate(chats):
            for k in range(TASKS_EACH):
                amo.add_task(f"Replica task {n:02d}-{k:02d}", responsible_user_id=amo_user,
                             complete_till=soon + (n + k) % 30, by_user=demo.admin)  # fmt: skip

        # Telegram updates reach the first replica by webhook (long polling allows one poller);
        # every replica sends, claims and fires.
        port = free_port()
        common = {
            "AMOBRIDGE_AMOCRM__BASE_URL": amo.base_url,
            "AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN": amo.long_lived_token,
            "AMOBRIDGE_TELEGRAM__TOKEN": tg.token,
            "AMOBRIDGE_TELEGRAM__API_BASE": tg.base_url,
            "AMOBRIDGE_TELEGRAM__WEBHOOK_SECRET": "replica-test",
            "AMOBRIDGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AMOBRIDGE_STORE_URL": redis_server_url,
            "AMOBRIDGE_REDIS_KEY_PREFIX": redis_prefix,
            "AMOBRIDGE_HTTP__HOST": "127.0.0.1",
        }
        for n in range(3):
            replica = ServiceProcess(
                run_env(**common, AMOBRIDGE_HTTP__PORT=str(port) if n == 0 else "0"), tmp_path
            )
            replicas.append(replica)
            await replica.start()
        for _ in range(300):  # the first sync reads every open task
            if len(await store.list_open_tasks()) >= MANAGERS * TASKS_EACH:
                break
            await asyncio.sleep(0.1)
        # A change of lead times plans each manager's reminders for their open tasks.
        for chat in chats.values():
            await tg.send_command(chat, "remind", "15m")
        # Later, the first reminders would be in the past, never sent: say so rather than hang.
        assert time.time() < setup_until, f"the setup took over {SETUP_S} s"

        def told() -> Counter[str]:
            return Counter(
                line
                for chat in chats.values()
                for m in tg.transcript(chat)
                if m.from_bot
                for line in m.text.splitlines()
                if "Replica task" in line
            )

        deadline = time.monotonic() + 300
        while sum(told().values()) < KILL_AT:
            assert time.monotonic() < deadline, f"{sum(told().values())} reminders by the deadline"
            await asyncio.sleep(0.2)
        await replicas[2].kill()
        queues = [*INBOX_QUEUES, outbox_queue("telegram")]
        while len(told()) < MANAGERS * TASKS_EACH or not await queues_empty(store, queues):
            assert time.monotonic() < deadline, f"{len(told())} of {MANAGERS * TASKS_EACH} told"
            await asyncio.sleep(0.5)

        counts = told()
        assert len(counts) == MANAGERS * TASKS_EACH
        assert [line for line, times in counts.items() if times > 1] == []
    finally:
        for replica in replicas:
            await replica.stop()
        await store.close()
