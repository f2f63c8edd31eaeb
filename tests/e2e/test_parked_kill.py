"""A press acknowledged while amoCRM does not answer ("saved, will sync"), then the process killed
with SIGKILL before amoCRM is back: the next start writes the press to amoCRM once and tells the
presser once (issue 12). The service runs as a real process, so the kill is real."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from bot.crm.catchup import POLL_CURSOR
from bot.people import Prefs
from bot.people.links import ChannelLink, Links
from bot.store import open_store
from bot.tasks.parked import PARK_QUEUE
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import buttons, eventually, says
from tests.e2e.processes import ServiceProcess, run_env

TEXT = "Call Initech before the kill"
BACK = "amoCRM is back: your change to the task"


async def test_a_press_saved_while_amocrm_was_down_is_written_once_after_a_sigkill(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path}/parked.db"
    ivan = tg.add_user(first_name="Ivan", language_code="en", started=True)
    store = await open_store(store_url)
    service = ServiceProcess(run_env(
        AMOBRIDGE_AMOCRM__BASE_URL=amo.base_url,
        AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN=amo.long_lived_token,
        AMOBRIDGE_AMOCRM__POLL_INTERVAL_S="1",
        AMOBRIDGE_TELEGRAM__TOKEN=tg.token,
        AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url,
        AMOBRIDGE_STORE_URL=store_url,
        AMOBRIDGE_HTTP__HOST="127.0.0.1",
        AMOBRIDGE_HTTP__PORT="0",
    ), tmp_path)  # fmt: skip
    try:
        await Links(store).link(
            ChannelLink(channel="telegram", amo_user_id=demo.ivan, account_id=str(ivan),
                        chat_id=str(ivan), linked_at=int(time.time()))
        )  # fmt: skip
        await Prefs(store).update(demo.ivan, lang="en")  # as after /lang en
        await service.start()

        async def polling() -> bool:
            return await store.get_cursor(POLL_CURSOR) is not None

        await eventually(polling, timeout_s=30, what="the events poll to start")
        tomorrow = int(time.time()) + 86_400
        task_id = amo.add_task(TEXT, responsible_user_id=demo.ivan, complete_till=tomorrow,
                               by_user=demo.admin)  # fmt: skip
        card = await says(tg, ivan, TEXT)
        amo.faults.add("503", count=100_000, path_prefix=f"/api/v4/tasks/{task_id}")

        await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
        await says(tg, ivan, "Your change is saved")
        await service.kill()  # before amoCRM is back: only the store knows of the press
        amo.faults.clear()
        await service.start()

        await says(tg, ivan, BACK)

        async def replayed() -> bool:
            return await store.count_due(PARK_QUEUE) == 0

        await eventually(replayed, timeout_s=30, what="the parked press to be written")
    finally:
        with contextlib.suppress(ProcessLookupError):
            await service.stop()
        await store.close()

    assert amo.task(task_id)["is_completed"] is True
    writes = [r for r in amo.request_log
              if r.method == "PATCH" and r.path == f"/api/v4/tasks/{task_id}"]  # fmt: skip
    assert len(writes) == 1
    assert sum(BACK in m.text for m in tg.transcript(ivan) if m.from_bot) == 1
