"""Reminders drawn ahead of their moment (``DRAW_AHEAD_S``), through the real service against
the emulators: what changed in amoCRM while a reminder was held is what the person sees."""

from __future__ import annotations

import pytest

from bot.app.wiring import Service
from bot.tasks import DRAW_AHEAD_S, REMINDER_QUEUE
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import ChatMessage, TelegramEmulator
from tests.e2e.helpers import FakeClock, about, eventually, link, task_given

pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)


async def test_a_task_completed_while_its_reminder_is_drawn_ahead_gets_no_reminder(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    due = int(clock.now()) + 2 * 3600  # both reminded an hour before, at one moment
    done = await task_given(service, amo, "Send the contract", to=demo.ivan, due=due,
                            by=demo.maria)  # fmt: skip
    kept = await task_given(service, amo, "Call Acme", to=demo.ivan, due=due, by=demo.maria)
    moment = due - 3600
    clock.advance(moment - DRAW_AHEAD_S / 2 - clock.now())

    # Drawn: both claimed by the service half a draw-ahead before their moment (a claim that
    # still gets one hands it straight back), and nothing sent yet.
    async def drawn() -> bool:
        items = await service.store.claim_due(REMINDER_QUEUE, moment, 100, 1)
        for item in items:  # as it was: due at its moment
            await service.store.extend_claims([item], item.due_at)
        return not any(i.item_id.startswith((f"{done}:", f"{kept}:")) for i in items)

    await eventually(drawn, what="both reminders to be drawn ahead")
    assert reminders(tg, user, "Send the contract") == reminders(tg, user, "Call Acme") == []

    amo.complete_task(done, by_user=demo.ivan)  # in amoCRM, while its reminder is held

    async def known() -> bool:
        cached = await service.store.get_task(done)
        return cached is not None and cached.value.is_completed

    await eventually(known, what="the service to learn of the completion")
    assert clock.now() < moment, "the completion came too late to test anything"

    await eventually(lambda: reminders_seen(tg, user, "Call Acme"), what="the other reminder")
    assert clock.now() >= moment  # it came at its moment, not before
    assert reminders(tg, user, "Send the contract") == []


def reminders(tg: TelegramEmulator, user: int, text: str) -> list[ChatMessage]:
    return [m for m in about(tg, user, text) if "Due in 1 h" in m.text]


async def reminders_seen(tg: TelegramEmulator, user: int, text: str) -> bool:
    return bool(reminders(tg, user, text))
