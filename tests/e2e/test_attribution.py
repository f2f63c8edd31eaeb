"""Whose change it is, and who hears of it: a press is the presser's (not the integration's amoCRM
user's, whom amoCRM names as the author of every write we make), a handed-over task or deal
reaches its new owner, and one change is one message per person."""

from __future__ import annotations

import httpx
import pytest

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e import helpers
from tests.e2e.helpers import (
    FakeClock,
    all_sent,
    answered,
    bot_messages,
    buttons,
    link,
    says,
)

pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)

MIN = 60


async def subscribe(tg: TelegramEmulator, admin: int, *rules: str) -> None:
    for rule in rules:
        await answered(tg, admin, f"/subscribe {rule}", "Subscription s")


async def test_a_follow_up_pressed_by_ivan_is_his_and_reaches_nobody_as_a_new_task(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    sergey = await link(service, tg, demo.supervisor, "Sergey")
    anna = await link(service, tg, demo.admin, "Anna")
    # Sergey follows the tasks others give his group's people.
    await subscribe(tg, anna, 'new_task by_others to user:"Sergey"')
    acme = demo.leads[0]
    amo.move_lead(acme, demo.qualified, by_user=demo.maria)
    alert = await says(tg, ivan, "Deal moved")

    await tg.press_button(ivan, ivan, alert.message_id, buttons(alert)["📅 Follow up tomorrow"])
    await says(tg, ivan, "Follow-up task created in amoCRM")
    await all_sent(service, amo)

    # amoCRM says the integration's user (Anna Admin) made the task; it was Ivan's press.
    made = [e for e in amo.events() if e["type"] == "task_added"]
    assert made
    assert made[-1]["created_by"] == demo.admin
    for chat in (ivan, sergey, anna):
        assert [m.text for m in bot_messages(tg, chat, "Follow up on")
                if "New task" in m.text] == []  # fmt: skip

    # Ivan is its author too: when Maria completes it, he hears of it (d5), Anna does not.
    amo.complete_task(made[-1]["entity_id"], by_user=demo.maria)
    done = await says(tg, ivan, "Completed by Maria Ivanova (amoCRM)")
    assert "Follow up on" in done.text
    await all_sent(service, amo)
    assert bot_messages(tg, anna, "Completed by") == []


async def test_a_task_handed_over_with_a_button_reaches_the_new_owner_with_its_buttons(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    maria = await link(service, tg, demo.maria, "Maria")
    card = await helpers.card_of(tg, ivan, "Follow up on the Globex renewal")
    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["↪ Reassign"])
    menu = await tg.wait_for_message(ivan, lambda m: "← Back" in buttons(m), timeout_s=10)
    await all_sent(service, amo)  # the cards of Ivan's open tasks, sent when he linked
    before = len(tg.transcript(ivan))

    await tg.press_button(ivan, ivan, menu.message_id, buttons(menu)["Maria Ivanova"])

    handed = await says(tg, maria, "🔁 Ivan Petrov handed you a task")
    assert "Follow up on the Globex renewal" in handed.text
    assert {"✔ Complete", "⏸ Snooze", "↪ Reassign"} <= set(buttons(handed))
    await says(tg, ivan, "Handed to Maria Ivanova by Ivan Petrov (Telegram)")
    await all_sent(service, amo)
    # Ivan hears nothing new of his own press: his card was edited, that is all.
    assert len(tg.transcript(ivan)) == before
    assert bot_messages(tg, ivan, "handed you") == []
    assert len(bot_messages(tg, maria, "handed you a task")) == 1


async def test_a_task_handed_over_in_amocrm_reaches_the_new_owner_and_her_reminders(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    maria = await link(service, tg, demo.maria, "Maria")
    text = "Send the Acme price list"
    due = int(clock.now()) + 40 * MIN
    task_id = await helpers.task_given(service, amo, text, to=demo.ivan, due=due,
                                       entity_id=demo.leads[0], by=demo.supervisor)  # fmt: skip
    given = await says(tg, ivan, "New task from Sergey Supervisor")

    # Sergey hands it to Maria in amoCRM (the emulator's control API: as a person would).
    async with httpx.AsyncClient(base_url=amo.base_url) as http:
        answer = await http.patch(f"/_control/tasks/{task_id}",
                                  json={"responsible_user_id": demo.maria,
                                        "by_user": demo.supervisor})  # fmt: skip
        assert answer.status_code == 200

    handed = await says(tg, maria, "🔁 Sergey Supervisor handed you a task")
    assert text in handed.text
    assert "✔ Complete" in buttons(handed)

    async def ivans_copy_says_so() -> bool:
        copy = tg.message(ivan, given.message_id)
        return "Handed to Maria Ivanova by Sergey Supervisor (amoCRM)" in copy.text

    await helpers.eventually(ivans_copy_says_so, what="Ivan's copy to say it was handed over")
    assert buttons(tg.message(ivan, given.message_id)) == {}
    # Its reminders are Maria's now: 15 minutes before the deadline, to her, not to Ivan.
    clock.advance(26 * MIN)
    reminder = await says(tg, maria, "Due in 15 min")
    assert text in reminder.text
    await all_sent(service, amo)
    assert not any("Due in" in m.text for m in bot_messages(tg, ivan, text))


async def test_a_deal_handed_over_reaches_its_new_owner_with_nothing_configured(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    maria = await link(service, tg, demo.maria, "Maria")

    amo.set_lead_responsible(demo.leads[1], demo.maria, by_user=demo.supervisor)  # Globex

    alert = await says(tg, maria, "👤 Deal handed over")
    assert "Globex renewal" in alert.text
    assert "By Sergey Supervisor (amoCRM)" in alert.text


async def test_one_change_matching_three_subscriptions_is_one_message_per_person(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    sergey = await link(service, tg, demo.supervisor, "Sergey")  # d3: won, to supervisors
    maria = await link(service, tg, demo.maria, "Maria")  # d1: her deal moved
    rules = ("moved to supervisors", 'won to user:"Sergey"', "won to responsible")
    await subscribe(tg, await link(service, tg, demo.admin, "Anna"), *rules)
    umbrella = demo.leads[3]  # Maria's, 1 200 000

    amo.move_lead(umbrella, demo.won, by_user=demo.ivan)
    await says(tg, sergey, "Umbrella LLC rollout")
    await says(tg, maria, "Umbrella LLC rollout")
    await all_sent(service, amo)

    for chat in (sergey, maria):
        (card,) = bot_messages(tg, chat, "Umbrella LLC rollout")
        assert card.text.startswith("🏆 Deal won")
        assert "Contract → Успешно реализовано (Sales)" in card.text
        assert "By Ivan Petrov (amoCRM)" in card.text
