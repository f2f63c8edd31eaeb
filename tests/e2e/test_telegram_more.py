"""More of Telegram end to end (issue 3): webhook mode, restarts, comments, changes made in amoCRM
itself, a reminder across a DST change, and mistakes answered in Russian. The real service, the
real aiogram client, the Telegram and amoCRM emulators, sharing one FakeClock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app.settings import HttpSettings, Settings
from bot.app.telegram import TELEGRAM_WEBHOOK_PATH
from bot.app.wiring import Service
from bot.delivery.outbox import outbox_queue
from bot.store import CLAIM_LEASE_S
from bot.tasks.buttons import Action, Payload
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import ChatMessage, TelegramEmulator
from tests.e2e.conftest import serving, webhook_mode
from tests.e2e.helpers import (
    FakeClock,
    answered,
    buttons,
    card_of,
    eventually,
    free_port,
    link,
    reminder_scheduled,
    says,
    synced,
    task_given,
    travel_to,
)

MIN = 60
BERLIN = ZoneInfo("Europe/Berlin")
MOSCOW = ZoneInfo("Europe/Moscow")
TELEGRAM_SECRET = "e2e-telegram-secret"
OUTBOX = outbox_queue("telegram")
# Berlin leaves summer time on Sunday 2026-10-25 at 03:00 (UTC+2 → UTC+1).
FRIDAY_17_BERLIN = datetime(2026, 10, 23, 17, 0, tzinfo=BERLIN)


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    """The shared clock; a test may start it at a given moment (indirect parametrization)."""
    clock = FakeClock()
    start: datetime | None = getattr(request, "param", None)
    if start is not None:
        clock.offset = start.timestamp() - time.time()
    return clock


@pytest.fixture
def messengers() -> tuple[str, ...]:
    return ("telegram",)


@pytest.fixture
def restartable(tg: TelegramEmulator, make_settings: Callable[..., Settings]) -> Settings:
    """Settings that a second instance of the service can start with after the first stopped:
    the same SQLite file (the ``store_url`` default) and a fixed port, so it is reached at the
    same address."""
    settings = make_settings(telegram=tg)
    return settings.model_copy(update={"http": HttpSettings(host="127.0.0.1", port=free_port())})


def cards_about(tg: TelegramEmulator, chat: int, text: str) -> list[ChatMessage]:
    return [m for m in tg.transcript(chat) if m.from_bot and text in m.text]


async def outbox_drained(service: Service) -> None:
    async def empty() -> bool:
        return await service.store.count_due(OUTBOX) == 0

    await eventually(empty, what="the outbox to drain")


async def test_in_webhook_mode_updates_come_by_webhook_and_a_wrong_secret_is_refused(
    amo: AmoEmulator,
    demo: DemoIds,
    tg: TelegramEmulator,
    clock: FakeClock,
    make_settings: Callable[..., Settings],
) -> None:
    settings = webhook_mode(make_settings(), tg, TELEGRAM_SECRET)
    port = settings.http.port
    async with serving(settings, clock) as service:
        hook = tg.webhook
        assert hook is not None
        assert hook.url == f"http://127.0.0.1:{port}{TELEGRAM_WEBHOOK_PATH}"
        assert hook.secret_token == TELEGRAM_SECRET

        await synced(service)  # /tasks answers from the cache
        user = await link(service, tg, demo.ivan, "Ivan")
        card = await card_of(tg, user, "Follow up on the Globex renewal")
        await tg.press_button(user, user, card.message_id, buttons(card)["✔ Complete"])
        edited = await says(tg, user, "Completed by Ivan Petrov (Telegram)")
        assert edited.message_id == card.message_id
        assert amo.task(demo.task_overdue)["is_completed"] is True
        # Every update went by webhook, each accepted at the first attempt; nobody polled.
        deliveries = tg.webhook_deliveries
        assert deliveries
        assert all(d.url == hook.url and d.status == 200 for d in deliveries)
        assert not any(r.method.lower() == "getupdates" for r in tg.request_log)

        # A forged "/unlink" and a forged press of another task's Complete, with a wrong secret
        # and with none: refused, and nothing changes.
        other = demo.task_due_15m
        sender = {"id": user, "is_bot": False, "first_name": "Ivan"}
        message = {
            "message_id": 10_000, "date": int(clock.now()), "from": sender,
            "chat": {"id": user, "type": "private"}, "text": "/unlink",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        }  # fmt: skip
        forged = [
            {"update_id": 900_001, "message": message},
            {"update_id": 900_002, "callback_query": {
                "id": "forged", "from": sender, "chat_instance": "1",
                "message": {**message, "text": "card", "entities": []},
                "data": Payload(action=Action.COMPLETE, task_id=other).pack(),
            }},
        ]  # fmt: skip
        transcript = len(tg.transcript(user))
        async with httpx.AsyncClient(base_url=service.base_url, trust_env=False) as http:
            for update in forged:
                for headers in ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, {}):
                    answer = await http.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=headers)
                    assert answer.status_code == 401
        assert service.services is not None
        still = await service.services.links.by_account("telegram", user)
        assert still is not None
        assert still.amo_user_id == demo.ivan
        assert amo.task(other)["is_completed"] is False
        assert not any(r.method == "PATCH" and r.path == f"/api/v4/tasks/{other}"
                       for r in amo.request_log)  # fmt: skip
        assert len(tg.transcript(user)) == transcript


async def test_a_card_sent_just_before_a_restart_keeps_working_and_is_not_sent_again(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, clock: FakeClock, restartable: Settings
) -> None:
    text = "Follow up on the Globex renewal"
    async with serving(restartable, clock) as first:
        await synced(first)  # /tasks answers from the cache
        user = await link(first, tg, demo.ivan, "Ivan")
        card = await card_of(tg, user, text)
    # Stopped the moment the card showed up in the chat.

    async with serving(restartable, clock) as second:
        await tg.press_button(user, user, card.message_id, buttons(card)["✔ Complete"])
        edited = await says(tg, user, "Completed by Ivan Petrov (Telegram)")
        assert edited.message_id == card.message_id
        assert buttons(edited) == {}
        task = amo.task(demo.task_overdue)
        assert task["is_completed"] is True
        assert task["result"] == {"text": "Completed from Telegram"}
        assert tg.callback_answers[-1].late is False
        # Long after any claim of the first instance ran out, the card is still there once.
        clock.advance(CLAIM_LEASE_S + 1)
        await outbox_drained(second)
        assert [m.message_id for m in cards_about(tg, user, text)] == [card.message_id]


async def test_cards_stored_before_a_crash_are_sent_after_the_restart_once(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, clock: FakeClock, restartable: Settings
) -> None:
    # Ivan's open tasks for today, whatever the hour: two overdue ones.
    amo.complete_task(demo.task_due_15m, by_user=demo.ivan)
    texts = ("Follow up on the Globex renewal", "Ask Acme for the signed order")
    amo.add_task(texts[1], responsible_user_id=demo.ivan, complete_till=int(clock.now()) - MIN,
                 entity_id=demo.leads[0], by_user=demo.maria)  # fmt: skip
    # The first instance runs no sender: what it queues stays queued when it stops.
    async with serving(restartable, clock, run_jobs=False) as first:
        assert first.crm is not None
        await first.crm.sync.sync_once()  # the task cache, which the jobs would have filled
        user = await link(first, tg, demo.ivan, "Ivan")
        await answered(tg, user, "/tasks", "Tasks for today: 2")

        async def queued() -> bool:
            return await first.store.count_due(OUTBOX) == 2

        await eventually(queued, what="two cards in the outbox")
        # One of them was taken by a sender that died before sending it.
        assert len(await first.store.claim_due(OUTBOX, clock.now(), 1, CLAIM_LEASE_S)) == 1
    assert all(cards_about(tg, user, text) == [] for text in texts)

    async with serving(restartable, clock) as second:
        # The one nobody took goes out at once; the taken one when its claim runs out.
        async def only_the_taken_one_left() -> bool:
            return await second.store.count_due(OUTBOX) == 1

        await eventually(only_the_taken_one_left, what="the untaken card to be sent")
        assert len([text for text in texts if cards_about(tg, user, text)]) == 1
        clock.advance(CLAIM_LEASE_S + 1)
        await outbox_drained(second)
        for text in texts:
            assert len(cards_about(tg, user, text)) == 1


async def test_complete_with_a_comment_writes_the_typed_result_and_a_note(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    signed = "Ask Acme for the signed order"
    signed_id = amo.add_task(signed, responsible_user_id=demo.ivan,
                             complete_till=int(clock.now()) - MIN, entity_id=demo.leads[0],
                             by_user=demo.maria)  # fmt: skip

    async def known() -> bool:
        return await service.store.get_task(signed_id) is not None

    await eventually(known, what="amobridge to learn of the new task")
    user = await link(service, tg, demo.ivan, "Ivan")
    card = await card_of(tg, user, "Follow up on the Globex renewal")
    await tg.press_button(user, user, card.message_id, buttons(card)["💬 With comment"])
    await says(tg, user, "Send the result of the task “Follow up on the Globex renewal”")
    patches = sum(1 for r in amo.request_log if r.method == "PATCH")
    # A blank reply is no result: the bot asks again and writes nothing.
    await tg.send_text(user, "   \n ")
    await says(tg, user, "Send the result of the task “Follow up on the Globex renewal”")
    assert sum(1 for r in amo.request_log if r.method == "PATCH") == patches
    await tg.send_text(user, "  Renewed for 2 years <b>&</b> invoiced \n")
    edited = await says(tg, user, "Completed by Ivan Petrov (Telegram)")
    assert edited.message_id == card.message_id
    task = amo.task(demo.task_overdue)
    assert task["is_completed"] is True
    assert task["result"] == {"text": "Renewed for 2 years <b>&</b> invoiced"}
    globex = demo.leads[1]
    assert any(
        "Telegram by Ivan Petrov" in n["params"]["text"]
        and "Renewed for 2 years <b>&</b> invoiced" in n["params"]["text"]
        for n in amo.notes(globex)
    )

    # A very long result (a whole Telegram message) is kept, clipped to a sane length.
    card = await card_of(tg, user, signed)
    await tg.press_button(user, user, card.message_id, buttons(card)["💬 With comment"])
    await says(tg, user, f"Send the result of the task “{signed}”")
    long_text = ("They want 60 licenses, not 50. " * 140)[:4096]
    await tg.send_text(user, long_text)
    await tg.wait_for_message(
        user, lambda m: m.message_id == card.message_id and "Completed by" in m.text, timeout_s=15
    )
    task = amo.task(signed_id)
    assert task["is_completed"] is True
    result = task["result"]["text"]
    assert long_text.startswith(result)
    assert 1000 <= len(result) <= 2000


async def test_a_move_and_a_reassignment_in_amocrm_edit_the_card_and_redo_the_reminders(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    maria = await link(service, tg, demo.maria, "Maria")
    await answered(tg, ivan, "/remind 60m,15m,5m",
                   "I'll remind you 1 h, 15 min, 5 min before each deadline")  # fmt: skip
    text = "Send the invoice to Acme"
    t0 = int(clock.now())
    task_id = await task_given(service, amo, text, to=demo.ivan, due=t0 + 61 * MIN,
                               entity_id=demo.leads[0], by=demo.maria)  # fmt: skip
    clock.advance(2 * MIN)
    first = await says(tg, ivan, "Due in 1 h")
    assert text in first.text

    # Moved earlier in amoCRM by Maria: the card says so, and the next reminder follows the
    # new deadline (15 minutes before it, long before the old deadline's reminders).
    deadline = t0 + 22 * MIN
    amo.update_task(task_id, complete_till=deadline, by_user=demo.maria)
    moved_to = datetime.fromtimestamp(deadline, MOSCOW).strftime("%H:%M")
    # (Maria gave Ivan the task: its "new task" alert is a copy too, edited alike.)
    moved = await tg.wait_for_message(
        ivan, lambda m: m.message_id == first.message_id and "(amoCRM)" in m.text, timeout_s=15
    )
    assert "by Maria Ivanova (amoCRM)" in moved.text
    assert "Moved to" in moved.text
    assert moved_to in moved.text
    assert buttons(moved) == {}
    clock.advance(6 * MIN)
    second = await says(tg, ivan, "Due in 15 min")
    assert text in second.text

    # Handed to Maria in amoCRM by the supervisor: both of Ivan's cards say so, Maria gets the
    # next reminder (when due), and Ivan's own next one (5 min before) never comes.
    amo.update_task(task_id, responsible_user_id=demo.maria, by_user=demo.supervisor)

    async def both_edited() -> bool:
        copies = [tg.message(ivan, m.message_id) for m in (first, second)]
        return all("Handed to Maria Ivanova by Sergey Supervisor (amoCRM)" in c.text
                   for c in copies)  # fmt: skip

    await eventually(both_edited, what="both of Ivan's cards to show the reassignment")
    clock.advance(15 * MIN)
    due = await says(tg, maria, "Due now")
    assert text in due.text
    # Ivan's reminder would have been queued before Maria's: once the outbox is empty, it
    # would have arrived.
    await outbox_drained(service)
    # (The "new task" alert Maria's task made came before the first reminder.)
    ivans = [m for m in cards_about(tg, ivan, text) if m.message_id >= first.message_id]
    assert [m.message_id for m in ivans] == [first.message_id, second.message_id]
    assert all("Due in 5 min" not in m.text for m in ivans)


@pytest.mark.parametrize("clock", [FRIDAY_17_BERLIN], ids=["friday-17-berlin"], indirect=True)
async def test_an_overdue_reminder_waits_for_monday_morning_in_the_users_zone_across_dst(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # no tasks of her own yet
    await answered(tg, anna, "/tz Europe/Berlin", "Your timezone is now Europe/Berlin")
    friday_18 = datetime(2026, 10, 23, 18, 0, tzinfo=BERLIN)
    text = "Call Umbrella about the rollout"
    amo.add_task(
        text, responsible_user_id=demo.admin, complete_till=int(friday_18.timestamp()),
        entity_id=demo.leads[3], by_user=demo.maria,
    )  # fmt: skip
    await reminder_scheduled(service, 1)

    def at(message: ChatMessage, moment: datetime) -> bool:
        return moment.timestamp() <= message.date <= moment.timestamp() + 10

    travel_to(clock, datetime(2026, 10, 23, 17, 45, tzinfo=BERLIN))
    before = await says(tg, anna, "Due in 15 min")
    assert "Due: today 18:00" in before.text  # her time, not the account's (19:00 Moscow)
    travel_to(clock, friday_18)
    due = await says(tg, anna, "Due now")
    assert at(due, friday_18)

    # The first repeat, 4 h later, falls on Friday night: it waits for working hours, which
    # start again on Monday at 09:00 Berlin time, by then winter time: 08:00 UTC (not 07:00).
    monday_9 = datetime(2026, 10, 26, 9, 0, tzinfo=BERLIN)
    assert monday_9.astimezone(UTC).hour == 8
    travel_to(clock, datetime(2026, 10, 26, 7, 59, 58, tzinfo=UTC))
    repeat = await tg.wait_for_message(anna, timeout_s=15)  # the next message of any kind
    assert text in repeat.text
    assert "Overdue by 64 h" in repeat.text
    assert "Due: 23.10 18:00" in repeat.text
    assert at(repeat, monday_9), datetime.fromtimestamp(repeat.date, UTC)


async def test_unknown_commands_and_bad_durations_are_explained_in_russian(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    assert service.services is not None
    code = await service.services.linking.create_invite(demo.ivan)
    user = tg.add_user(first_name="Иван", language_code="ru")
    await tg.send_command(user, "start", code)
    await says(tg, user, "Готово ✔ Вы в amoCRM — Ivan Petrov.")

    answer = await answered(tg, user, "/frobnicate", "Такой команды я не знаю.")
    assert "Команды: /tasks, /remind 60m,15m" in answer.text
    for value, problem in [
        ("soon", "Не понял длительность."),
        ("10d", "Напомнить можно не раньше чем за 7 дней."),
        ("400d", "Слишком долго: не больше года."),
        ("5m,10m,15m,20m,30m,60m", "Не больше 5 напоминаний."),
    ]:
        await tg.send_command(user, "remind", value)
        answer = await says(tg, user, problem)
        assert "Например: /remind 60m,15m (или /remind off)" in answer.text
    await answered(tg, user, "/remind", "Укажите, за сколько до срока напоминать.")
    prefs = await service.services.prefs.get(demo.ivan)
    assert prefs.lead_minutes is None  # nothing changed

    card = await card_of(tg, user, "Follow up on the Globex renewal")
    await tg.press_button(user, user, card.message_id, buttons(card)["⏸ Отложить"])
    menu = await tg.wait_for_message(user, lambda m: "Другое время…" in buttons(m), timeout_s=10)
    await tg.press_button(user, user, menu.message_id, buttons(menu)["Другое время…"])
    await says(tg, user, "Когда напомнить?")
    await tg.send_text(user, "когда-нибудь")
    answer = await says(tg, user, "Не понял, когда.")
    assert "Например: 2h, 30m, завтра 10:00, пт 10:00" in answer.text
