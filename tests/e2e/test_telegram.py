"""Telegram end to end: a manager links their account, gets reminders, presses buttons, and amoCRM
changes. The real service, the real aiogram client, the Telegram and amoCRM emulators."""

from __future__ import annotations

import re

import pytest

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import (
    FakeClock,
    answered,
    buttons,
    card_of,
    eventually,
    link,
    says,
    shows,
    task_given,
)

MIN = 60


@pytest.fixture
def messengers() -> tuple[str, ...]:
    """Telegram alone: what a Telegram user sees when no other messenger is set up."""
    return ("telegram",)


async def test_a_manager_links_telegram_with_a_code_from_amocrm(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    user = tg.add_user(first_name="Ivan", language_code="en")
    await answered(tg, user, "/start", "Send me the e-mail")
    await tg.send_text(user, "nobody@demo.example")
    await says(tg, user, "No active amoCRM user has that e-mail")
    await tg.send_text(user, "IVAN@demo.example")
    await says(tg, user, "I created a task in amoCRM for Ivan Petrov")

    [code_task] = [
        amo.task(e["entity_id"])
        for e in amo.events()
        if e["type"] == "task_added" and "amobridge" in amo.task(e["entity_id"])["text"]
    ]
    assert code_task["responsible_user_id"] == demo.ivan
    code = re.search(r"\b(\d{6})\b", code_task["text"])
    assert code is not None
    wrong = "000000" if code.group(1) != "000000" else "111111"
    await tg.send_text(user, wrong)
    await says(tg, user, "Wrong code. Attempts left: 4.")
    await tg.send_text(user, code.group(1))
    # From here on the bot speaks Ivan's amoCRM language, whatever his Telegram's is.
    await says(tg, user, "Готово ✔ Вы в amoCRM — Ivan Petrov.")

    assert amo.task(code_task["id"])["is_completed"] is True
    assert service.services is not None
    linked = await service.services.links.by_account("telegram", user)
    assert linked is not None
    assert linked.amo_user_id == demo.ivan
    # The code was single use.
    await tg.send_text(user, code.group(1))
    await says(tg, user, "Я понимаю команды")


async def test_five_wrong_codes_lock_the_linking_for_a_while(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    user = tg.add_user(first_name="Mallory", language_code="en")
    await tg.send_command(user, "start")
    await tg.send_text(user, "ivan@demo.example")
    await says(tg, user, "I created a task")
    for left in (4, 3, 2, 1):
        await tg.send_text(user, "999999")
        await says(tg, user, f"Attempts left: {left}")
    await tg.send_text(user, "999999")
    await says(tg, user, "Too many wrong codes")
    await tg.send_command(user, "start")
    await tg.send_text(user, "ivan@demo.example")
    await says(tg, user, "Too many wrong codes")
    assert service.services is not None
    assert await service.services.links.by_amo(demo.ivan, "telegram") is None


@pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)
async def test_a_reminder_comes_at_each_lead_time_and_complete_writes_back(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    task_id = await task_given(service, amo, "Call <b>Acme</b> & co", to=demo.ivan,
                               due=int(clock.now()) + 2 * 3600,
                               entity_id=demo.leads[0], by=demo.maria)  # fmt: skip
    clock.advance(3600 + 5)  # an hour before the deadline
    first = await says(tg, user, "Due in 1 h")
    assert "Call <b>Acme</b> & co" in first.text  # CRM text shown as text, not markup
    clock.advance(45 * MIN)
    reminder = await says(tg, user, "Due in 15 min")

    await tg.press_button(user, user, reminder.message_id, buttons(reminder)["✔ Complete"])

    # Both reminders about the task are edited: the outcome, and no buttons left to press.
    async def both_edited() -> bool:
        copies = [tg.message(user, m.message_id) for m in (first, reminder)]
        return all("Completed by Ivan Petrov (Telegram)" in c.text and not buttons(c)
                   for c in copies)  # fmt: skip

    await eventually(both_edited, what="both reminders to show the completion")
    task = amo.task(task_id)
    assert task["is_completed"] is True
    assert task["result"] == {"text": "Completed from Telegram"}
    assert any("Telegram by Ivan Petrov" in n["params"]["text"] for n in amo.notes(demo.leads[0]))
    assert tg.callback_answers[-1].late is False


async def test_a_double_press_writes_once(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    card = await card_of(tg, user, "Follow up on the Globex renewal")
    complete = buttons(card)["✔ Complete"]
    await tg.press_button(user, user, card.message_id, complete)
    await tg.press_button(user, user, card.message_id, complete)
    await shows(tg, user, "Completed by Ivan Petrov")
    await shows(tg, user, "This task")  # "is already completed" or "is being changed"
    writes = [
        r
        for r in amo.request_log
        if r.method == "PATCH" and r.path == f"/api/v4/tasks/{demo.task_overdue}"
    ]
    assert len(writes) == 1


async def test_snooze_by_button_and_by_typed_time(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    card = await card_of(tg, user, "Follow up on the Globex renewal")
    await tg.press_button(user, user, card.message_id, buttons(card)["⏸ Snooze"])
    menu = await tg.wait_for_message(user, lambda m: "1 hour" in buttons(m), timeout_s=10)
    before = int(clock.now())
    await tg.press_button(user, user, menu.message_id, buttons(menu)["1 hour"])
    await says(tg, user, "Moved to")

    async def moved() -> bool:
        return int(amo.task(demo.task_overdue)["complete_till"]) >= before + 3600

    await eventually(moved, what="the deadline to move by an hour")

    card = await card_of(tg, user, "Call Acme about the license count")
    await tg.press_button(user, user, card.message_id, buttons(card)["⏸ Snooze"])
    menu = await tg.wait_for_message(user, lambda m: "Other time…" in buttons(m), timeout_s=10)
    await tg.press_button(user, user, menu.message_id, buttons(menu)["Other time…"])
    await says(tg, user, "When should I remind you?")
    till = amo.task(demo.task_due_15m)["complete_till"]
    await tg.send_text(user, "someday soon")
    await says(tg, user, "For example: 2h, 30m, tomorrow 10:00")
    assert amo.task(demo.task_due_15m)["complete_till"] == till  # nothing changed
    await tg.send_text(user, "2h")
    await says(tg, user, "Moved to")
    assert amo.task(demo.task_due_15m)["complete_till"] >= int(clock.now()) + 2 * 3600 - 5


async def test_reassign_to_a_colleague_of_the_group(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    card = await card_of(tg, user, "Follow up on the Globex renewal")
    await tg.press_button(user, user, card.message_id, buttons(card)["↪ Reassign"])
    menu = await tg.wait_for_message(user, lambda m: "← Back" in buttons(m), timeout_s=10)
    # Ivan edits his own tasks ("M") and may hand them to his group (Sales A), himself excluded.
    assert set(buttons(menu)) == {"Maria Ivanova", "Sergey Supervisor", "← Back"}
    await tg.press_button(user, user, menu.message_id, buttons(menu)["Maria Ivanova"])
    edited = await says(tg, user, "Handed to Maria Ivanova by Ivan Petrov (Telegram)")
    assert edited.message_id == card.message_id
    assert amo.task(demo.task_overdue)["responsible_user_id"] == demo.maria


async def test_without_rights_a_press_is_refused_and_nothing_is_written(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    oleg = await link(service, tg, demo.oleg, "Oleg")  # tasks edit: D
    await answered(tg, oleg, "/tasks", "Tasks for today")
    assert service.services is not None
    await service.services.reminders.reschedule_user(demo.oleg)
    patches_before = sum(1 for r in amo.request_log if r.method == "PATCH")
    card = await card_of(tg, oleg, "Send the contract draft to Stark")
    await tg.press_button(oleg, oleg, card.message_id, buttons(card)["✔ Complete"])
    await says(tg, oleg, "Your amoCRM rights do not allow you to change this task.")
    assert sum(1 for r in amo.request_log if r.method == "PATCH") == patches_before
    assert amo.task(demo.task_due_3h)["is_completed"] is False


async def test_a_completion_in_amocrm_edits_the_messages(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    card = await card_of(tg, user, "Follow up on the Globex renewal")
    amo.complete_task(demo.task_overdue, "Done by phone", by_user=demo.maria)
    edited = await says(tg, user, "Completed by Maria Ivanova (amoCRM)")
    assert edited.message_id == card.message_id
    assert buttons(edited) == {}


@pytest.mark.parametrize("poll_interval_s", [3600.0])
async def test_a_stale_button_after_completion_in_amocrm_gets_an_honest_answer(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    card = await card_of(tg, user, "Follow up on the Globex renewal")
    # Completed in amoCRM while nothing tells amobridge: the button is still on the message.
    amo.webhooks_enabled = False
    assert service.crm is not None
    amo.complete_task(demo.task_overdue, by_user=demo.maria)
    await tg.press_button(user, user, card.message_id, buttons(card)["✔ Complete"])
    await says(tg, user, "This task is already completed.")
    writes = [r for r in amo.request_log if r.method == "PATCH"]
    assert writes == []


async def test_commands_answer_in_the_users_language_and_explain_mistakes(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    await answered(tg, user, "/remind 30m,2h", "I'll remind you 2 h, 30 min before each deadline")
    await answered(tg, user, "/remind soon", "For example: /remind 60m,15m")
    await answered(tg, user, "/tz Mars/Base", "For example: /tz Europe/Moscow")
    await answered(tg, user, "/tz europe/berlin", "Your timezone is now Europe/Berlin")
    await answered(tg, user, "/frobnicate", "I don't know that command.")
    await answered(tg, user, "/lang ru", "Язык: русский.")
    await answered(tg, user, "/help", "/tasks — задачи на сегодня")
    assert {c["command"] for c in tg.commands(language_code="ru")} >= {"tasks", "remind", "tz"}


async def test_a_blocked_bot_pauses_the_link_and_tells_the_admin(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    admin = await link(service, tg, demo.admin, "Anna")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    tg.block_bot(ivan)
    await task_given(service, amo, "Call back", to=demo.ivan,
                     due=int(clock.now()) + 61 * MIN, by=demo.admin)  # fmt: skip
    clock.advance(2 * MIN)
    await says(tg, admin, "Ivan Petrov blocked the bot")
    assert service.services is not None
    paused = await service.services.links.by_amo(demo.ivan, "telegram")
    assert paused is not None
    assert paused.paused
    tg.unblock_bot(ivan)
    await answered(tg, ivan, "/start", "You are linked as Ivan Petrov")
    resumed = await service.services.links.by_amo(demo.ivan, "telegram")
    assert resumed is not None
    assert not resumed.paused
