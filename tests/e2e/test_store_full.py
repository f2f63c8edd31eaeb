"""The SQLite file on a full disk (issue 12): a webhook that cannot be stored is answered 503 so
that amoCRM sends it again, with one log line and no traceback; once space returns the change
goes through. The full disk is SQLite's own: the file is capped at its size
(``PRAGMA max_page_count``) and filled through the store until even a tiny write is refused."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from bot.app.wiring import Service
from bot.store import SqliteStore, StoreFull
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.e2e.helpers import buttons, link, says

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def messengers() -> tuple[str, ...]:
    return ("telegram",)


async def write_until_refused(write: Callable[[str], Awaitable[None]]) -> None:
    for _ in range(100_000):
        await write(uuid.uuid4().hex)


async def fill(store: SqliteStore) -> None:
    """Cap the file at its size and use up its room: documents and due entries, each size
    written until the store refuses it, smaller and smaller."""
    await store.cap_size(0)
    later = time.time() + 86_400
    for size in (4000, 500, 50, 5):
        filler = "x" * size

        async def doc(key: str, value: str = filler) -> None:
            await store.put_doc("filler", key, value)

        async def due(key: str, value: str = filler) -> None:
            await store.put_due("filler", key, later, value)

        with pytest.raises(StoreFull):
            await write_until_refused(doc)
        with pytest.raises(StoreFull):
            await write_until_refused(due)


async def test_a_full_disk_answers_503_without_a_traceback_and_recovers(
    service: Service,
    tg: TelegramEmulator,
    amo: AmoEmulator,
    demo: DemoIds,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    store = service.store
    assert isinstance(store, SqliteStore)
    await fill(store)
    caplog.clear()

    task_id = amo.add_task("Call Umbrella while the disk is full",
                           responsible_user_id=demo.ivan, complete_till=int(time.time()) + 86_400,
                           by_user=demo.maria)  # fmt: skip
    body = f"account[subdomain]=demo&account[id]={amo.account_id}&task[add][0][id]={task_id}"
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        refused = [
            (await http.post(f"/amocrm/webhook/{WEBHOOK_SECRET}", content=body, headers=FORM))
            for _ in range(3)
        ]
        assert [r.status_code for r in refused] == [503, 503, 503]
        lines = [r for r in caplog.records if "not stored" in r.getMessage()]
        assert len(lines) >= 3  # one line per refused webhook (amoCRM's own among them)
        assert all("full" in r.getMessage() for r in lines)
        assert not [r for r in caplog.records if r.exc_info], "no traceback for a full disk"

        await store.cap_size(None)  # space returns
        # amoCRM sends the webhook again; the change reaches the manager.
        again = await http.post(f"/amocrm/webhook/{WEBHOOK_SECRET}", content=body, headers=FORM)
    assert again.status_code == 200
    alert = await says(tg, ivan, "Call Umbrella while the disk is full")
    assert "New task" in alert.text
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


@pytest.fixture
async def ivan(service: Service, tg: TelegramEmulator, demo: DemoIds) -> int:
    """Ivan's Telegram chat, linked to his amoCRM account."""
    return await link(service, tg, demo.ivan, "Ivan")


async def test_a_press_while_the_disk_is_full_is_answered_plainly_without_a_traceback(
    service: Service,
    tg: TelegramEmulator,
    amo: AmoEmulator,
    ivan: int,
    demo: DemoIds,
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = "Call Soylent before the disk fills"
    tomorrow = int(time.time()) + 86_400
    task_id = amo.add_task(text, responsible_user_id=demo.ivan, complete_till=tomorrow,
                           by_user=demo.maria)  # fmt: skip
    card = await says(tg, ivan, text)
    store = service.store
    assert isinstance(store, SqliteStore)
    await fill(store)
    caplog.clear()

    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
    await says(tg, ivan, "amobridge cannot save anything right now")
    assert amo.task(task_id)["is_completed"] is False
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a full disk"
    await store.cap_size(None)
