"""Someone switched off in amoCRM (they left the company) can no longer act through the bot,
though their Telegram link is still there: amobridge writes with the integration's token, so
its own check is all that stands between their old chat and the account."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import buttons, eventually, link, says

NOT_LINKED = "Link your amoCRM account first: /start"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/amobridge.db"


async def test_a_user_deactivated_in_amocrm_can_no_longer_press_or_link(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    await tg.send_command(ivan, "tasks")
    card = await says(tg, ivan, "Follow up on the Globex renewal")
    patches = sum(1 for r in amo.request_log if r.method == "PATCH")

    amo.deactivate_user(demo.ivan)
    assert service.services is not None
    await service.services.directory.refresh()  # what the periodic refresh would bring

    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
    await says(tg, ivan, NOT_LINKED)
    await tg.send_command(ivan, "tasks")

    async def refused_twice() -> bool:
        return sum(NOT_LINKED in m.text for m in tg.transcript(ivan)) == 2

    await eventually(refused_twice, what="/tasks to be refused too")
    # Nor can the account be linked again: a code goes only to an active amoCRM user.
    await tg.send_command(ivan, "start")
    await says(tg, ivan, "Send me the e-mail")
    await tg.send_text(ivan, "ivan@demo.example")
    await says(tg, ivan, "No active amoCRM user has that e-mail")
    assert sum(1 for r in amo.request_log if r.method == "PATCH") == patches
    assert amo.task(demo.task_overdue)["is_completed"] is False
