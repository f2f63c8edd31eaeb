"""Slack end to end: a manager links by e-mail, gets reminders in Block Kit, clicks, fills modals,
and amoCRM changes. The real service with bolt and slack_sdk, the Slack and amoCRM emulators."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.app.settings import Settings
from bot.app.wiring import Service, running_service
from bot.crm.directory import REFRESH_S
from bot.delivery.outbox import outbox_queue
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import Signing, SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import (
    FakeClock,
    buttons,
    eventually,
    link,
    says,
    synced,
    task_given,
)
from tests.e2e.slack_helpers import (
    acked_in_time,
    amo_tells,
    button,
    menu,
    message_text,
    option,
    shown,
    slack_card_of,
    slack_link,
    slack_says,
    tells,
)

MIN = 60


@pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)
async def test_a_manager_links_by_email_gets_a_reminder_and_completes_it(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    nobody = slack.add_user("Nobody", email="nobody@elsewhere.example")
    await amo_tells(slack, nobody, "link", "nobody@elsewhere.example")  # "no amoCRM user has …"
    ivan = slack.add_user("Ivan Petrov", email="IVAN@demo.example")  # e-mails match in any case
    await amo_tells(slack, ivan, "link", "Готово ✔ Вы в amoCRM — Ivan Petrov.")
    assert service.services is not None
    linked = await service.services.links.by_account("slack", ivan)
    assert linked is not None
    assert linked.amo_user_id == demo.ivan
    acked_in_time(await slack.slash_command(ivan, "/amo", "lang en"))

    task_id = await task_given(service, amo, "Call <b>Acme</b> & co", to=demo.ivan,
                               due=int(clock.now()) + 2 * 3600,
                               entity_id=demo.leads[0], by=demo.maria)  # fmt: skip
    clock.advance(3600 + 5)
    dm = slack.dm_channel(ivan)
    reminder = await slack_says(slack, dm, "Due in 1 h")
    assert "Call &lt;b&gt;Acme&lt;/b&gt; &amp; co" in message_text(reminder)  # text, not markup

    clicked = await slack.click(ivan, dm, reminder.ts, **_press(button(reminder, "✔ Complete")))

    acked_in_time(clicked)
    assert clicked.ack_ms < 1000
    # (Maria gave Ivan the task: its "new task" alert is a copy too, edited alike.)
    edited = await slack.wait_for_message(
        dm, lambda m: m.ts == reminder.ts and "Completed by" in message_text(m), timeout_s=15
    )
    assert "Completed by Ivan Petrov (Slack)" in message_text(edited)
    assert not [b for b in edited.blocks if b["type"] == "actions"]  # nothing left to press
    task = amo.task(task_id)
    assert task["is_completed"] is True
    assert task["result"] == {"text": "Completed from Slack"}

    async def noted() -> bool:  # written after the PATCH, so maybe after the card's edit
        return any("Slack by Ivan Petrov" in n["params"]["text"] for n in amo.notes(demo.leads[0]))

    await eventually(noted, what="the note on the deal")


async def test_an_admin_links_everyone_at_once_and_hears_who_could_not_be(
    service: Service, slack: SlackEmulator, demo: DemoIds
) -> None:
    ivan = slack.add_user("Ivan Petrov", email="ivan@demo.example")
    slack.add_user("Maria Ivanova", email="maria@demo.example")
    slack.add_user("Visitor", email="visitor@partner.example")
    slack.add_user("Old Bot", email="bot@demo.example", is_bot=True)
    await amo_tells(slack, ivan, "link all", "Only an amoCRM admin can link everyone at once.")
    anna = await slack_link(slack, "Anna Admin", "anna@demo.example", is_admin=True)

    report = await amo_tells(slack, anna, "link all",
                             "Linked now: 2. Already linked: 1. Could not link: 1.")  # fmt: skip
    text = message_text(report)
    assert "→ Ivan Petrov" in text
    assert "→ Maria Ivanova" in text
    assert "no active amoCRM user has visitor@partner.example" in text
    assert "Old Bot" not in text  # bots are never linked, nor reported
    assert service.services is not None
    assert (await service.services.links.by_amo(demo.maria, "slack")) is not None


async def test_forged_and_stale_requests_are_refused_and_change_nothing(
    service: Service, slack: SlackEmulator, demo: DemoIds
) -> None:
    ivan = slack.add_user("Ivan Petrov", email="ivan@demo.example")
    slack.signing = Signing(secret="not-the-signing-secret")
    forged = await slack.slash_command(ivan, "/amo", "link")
    slack.signing = Signing(age_s=400)
    stale = await slack.slash_command(ivan, "/amo", "link")
    slack.signing = Signing(tamper=True)
    tampered = await slack.slash_command(ivan, "/amo", "link")

    assert (forged.status, stale.status, tampered.status) == (401, 401, 401)
    assert forged.failed
    assert service.services is not None
    assert await service.services.links.by_account("slack", ivan) is None


async def test_clicks_by_an_unlinked_user_and_by_one_without_rights_write_nothing(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    oleg = await slack_link(slack, "Oleg Sidorov", "oleg@demo.example")  # tasks edit: D
    dm = slack.dm_channel(oleg)
    card = await slack_card_of(slack, oleg, "Send the contract draft to Stark")
    patches = sum(1 for r in amo.request_log if r.method == "PATCH")

    acked_in_time(await slack.click(oleg, dm, card.ts, **_press(button(card, "✔ Complete"))))
    await tells(slack, oleg, "Your amoCRM rights do not allow you to change this task.")
    await amo_tells(slack, oleg, "unlink", "Slack unlinked.")
    acked_in_time(await slack.click(oleg, dm, card.ts, **_press(button(card, "✔ Complete"))))
    await tells(slack, oleg, "Link your amoCRM account first: /amo link")

    assert sum(1 for r in amo.request_log if r.method == "PATCH") == patches
    assert amo.task(demo.task_due_3h)["is_completed"] is False


@pytest.mark.parametrize("poll_interval_s", [3600.0])
async def test_a_double_click_writes_once_and_a_click_on_a_done_task_writes_nothing(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    dm = slack.dm_channel(ivan)
    overdue = await slack_card_of(slack, ivan, "Follow up on the Globex renewal")
    soon = await slack_says(slack, dm, "Call Acme about the license count")
    complete = _press(button(overdue, "✔ Complete"))

    first, second = await asyncio.gather(
        slack.click(ivan, dm, overdue.ts, **complete),
        slack.click(ivan, dm, overdue.ts, **complete),
    )

    acked_in_time(first)
    acked_in_time(second)
    await slack_says(slack, dm, "Completed by Ivan Petrov (Slack)")
    await tells(slack, ivan, "This task")  # "is already completed" or "is being changed"
    path = f"/api/v4/tasks/{demo.task_overdue}"
    assert len([r for r in amo.request_log if r.method == "PATCH" and r.path == path]) == 1
    # Completed in amoCRM itself while the card still shows its buttons: an honest answer.
    amo.webhooks_enabled = False
    amo.complete_task(demo.task_due_15m, by_user=demo.maria)
    acked_in_time(await slack.click(ivan, dm, soon.ts, **_press(button(soon, "✔ Complete"))))
    await tells(slack, ivan, "This task is already completed.")
    path = f"/api/v4/tasks/{demo.task_due_15m}"
    assert [r for r in amo.request_log if r.method == "PATCH" and r.path == path] == []


async def test_complete_with_a_comment_asks_in_a_modal_and_refuses_a_blank_one(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    card = await slack_card_of(slack, ivan, "Follow up on the Globex renewal")
    dm = slack.dm_channel(ivan)

    acked_in_time(await slack.click(ivan, dm, card.ts, **_press(button(card, "💬 With comment"))))

    async def modal_open() -> bool:
        return bool(slack.views(ivan))

    await eventually(modal_open, what="the comment modal")
    modal = slack.views(ivan)[-1]
    assert "Follow up on the Globex renewal" in shown(modal.view["blocks"])
    blank = await slack.submit_view(ivan, modal.id, {"answer": {"value": "   "}})
    acked_in_time(blank)
    assert "Write the result" in blank.errors["answer"]
    assert slack.views(ivan)  # still open
    assert amo.task(demo.task_overdue)["is_completed"] is False

    done = await slack.submit_view(ivan, modal.id, {"answer": {"value": "Agreed on a demo"}})

    acked_in_time(done)
    assert not slack.views(ivan)
    await slack_says(slack, dm, "Completed by Ivan Petrov (Slack)")
    task = amo.task(demo.task_overdue)
    assert (task["is_completed"], task["result"]) == (True, {"text": "Agreed on a demo"})


async def test_snooze_from_the_menu_and_to_a_typed_time_and_reassign_from_the_list(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    dm = slack.dm_channel(ivan)
    overdue = await slack_card_of(slack, ivan, "Follow up on the Globex renewal")
    soon = await slack_says(slack, dm, "Call Acme about the license count")

    before = int(clock.now())
    action_id, value = option(overdue, "overflow", "⏸ Snooze: 1 hour")
    acked_in_time(await slack.click(ivan, dm, overdue.ts, action_id, value))
    await slack_says(slack, dm, "Moved to")
    assert int(amo.task(demo.task_overdue)["complete_till"]) >= before + 3600

    action_id, value = option(soon, "overflow", "⏸ Snooze: Other time…")
    acked_in_time(await slack.click(ivan, dm, soon.ts, action_id, value))

    async def modal_open() -> bool:
        return bool(slack.views(ivan))

    await eventually(modal_open, what="the snooze modal")
    modal = slack.views(ivan)[-1]
    till = amo.task(demo.task_due_15m)["complete_till"]
    wrong = await slack.submit_view(ivan, modal.id, {"answer": {"value": "someday soon"}})
    assert "For example: 2h, 30m, tomorrow 10:00" in wrong.errors["answer"]
    assert amo.task(demo.task_due_15m)["complete_till"] == till
    acked_in_time(await slack.submit_view(ivan, modal.id, {"answer": {"value": "2h"}}))
    await eventually(
        _deadline_at_least(amo, demo.task_due_15m, int(clock.now()) + 2 * 3600 - 5),
        what="the typed snooze to reach amoCRM",
    )

    moved = await slack.wait_for_message(
        dm, lambda m: m.ts == soon.ts and "Moved to" in message_text(m), timeout_s=15
    )
    assert not [b for b in moved.blocks if b["type"] == "actions"]  # its buttons are spent
    acked_in_time(await slack.slash_command(ivan, "/amo", "tasks"))
    fresh = await slack.wait_for_message(
        dm, lambda m: m.ts != soon.ts and "Call Acme" in message_text(m), timeout_s=15
    )
    # Ivan edits his own tasks ("M") and may hand them to his group (Sales A), himself excluded.
    offered = {o["text"]["text"] for o in menu(fresh, "static_select")["options"]}
    assert offered == {"Maria Ivanova", "Sergey Supervisor"}
    action_id, value = option(fresh, "static_select", "Maria Ivanova")
    acked_in_time(await slack.click(ivan, dm, fresh.ts, action_id, value))
    await slack_says(slack, dm, "Handed to Maria Ivanova by Ivan Petrov (Slack)")
    assert amo.task(demo.task_due_15m)["responsible_user_id"] == demo.maria


async def price_list_due_in_15_min(
    service: Service, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    """Anna gives Ivan a task due in 20 minutes; the clock moves to its 15-minute reminder."""
    await task_given(service, amo, "Send the price list", to=demo.ivan,
                     due=int(clock.now()) + 20 * MIN, by=demo.admin)  # fmt: skip
    clock.advance(6 * MIN)


async def test_a_press_in_slack_updates_the_telegram_copy_too(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    ivan_tg = await link(service, tg, demo.ivan, "Ivan")
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    await price_list_due_in_15_min(service, amo, demo, clock)  # to both messengers
    in_telegram = await says(tg, ivan_tg, "Send the price list")
    dm = slack.dm_channel(ivan)
    in_slack = await slack_says(slack, dm, "Send the price list")

    acked_in_time(
        await slack.click(ivan, dm, in_slack.ts, **_press(button(in_slack, "✔ Complete")))
    )

    edited = await says(tg, ivan_tg, "Completed by Ivan Petrov (Slack)")
    assert edited.message_id == in_telegram.message_id
    assert buttons(edited) == {}
    await slack_says(slack, dm, "Completed by Ivan Petrov (Slack)")


async def test_a_manager_who_chose_slack_hears_only_there_until_slack_drops_them(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    ivan_tg = await link(service, tg, demo.ivan, "Ivan")
    await tg.send_command(ivan_tg, "messenger", "slack")
    await says(tg, ivan_tg, "You have not linked Slack yet")
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    await tg.send_command(ivan_tg, "messenger", "viber")
    await says(tg, ivan_tg, "I know Telegram and Slack.\nFor example: /messenger slack")
    await tg.send_command(ivan_tg, "messenger")
    await says(tg, ivan_tg, "come to every messenger you linked: Telegram, Slack.")
    await tg.send_command(ivan_tg, "messenger", "slack")
    chosen = await says(tg, ivan_tg, "Alerts and reminders come to Slack only.")
    assert "they come to Telegram" in chosen.text

    await price_list_due_in_15_min(service, amo, demo, clock)  # to Slack only
    dm = slack.dm_channel(ivan)
    await slack_says(slack, dm, "⏰ Due in 15 min")

    async def telegram_outbox_empty() -> bool:
        return await service.store.count_due(outbox_queue("telegram")) == 0

    await eventually(telegram_outbox_empty, what="Telegram's queue to be empty")
    assert not [m for m in tg.transcript(ivan_tg) if "Send the price list" in m.text]

    # Slack drops Ivan: what was on its way there comes to Telegram, and so does what follows.
    slack.deactivate_user(ivan)
    amo.add_task("Call back", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 61 * MIN, by_user=demo.admin)  # fmt: skip
    given = await says(tg, ivan_tg, "Call back")
    assert buttons(given)  # the card itself, with its buttons, not a notice
    await tg.send_command(ivan_tg, "messenger")
    await says(tg, ivan_tg, "Alerts and reminders come to Slack only.")  # the choice stays
    clock.advance(14 * MIN)  # the price list is due now: Slack is paused, Telegram hears it
    due = await says(tg, ivan_tg, "Send the price list")
    assert "Due now" in due.text


async def test_amo_commands_answer_only_the_caller_and_explain_mistakes(
    service: Service, slack: SlackEmulator, demo: DemoIds
) -> None:
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    general = slack.add_channel("general", members=[ivan], bot_member=False)

    async def amo_says(text: str, fragment: str) -> None:
        await amo_tells(slack, ivan, text, fragment, channel_id=general)

    await amo_says("remind 30m,2h", "I'll remind you 2 h, 30 min before each deadline")
    await amo_says("remind soon", "For example: /amo remind 60m,15m")
    await amo_says("frobnicate", "I don't know that command.")
    await amo_says("tz Mars/Base", "For example: /amo tz Europe/Moscow")
    await amo_says("tz europe/berlin", "Your timezone is now Europe/Berlin")
    await amo_says("tasks", "The cards are in your direct messages with the bot.")
    await amo_says("", "/amo remind 60m,15m")  # a bare /amo is help
    await amo_says("lang ru", "Язык: русский.")
    assert slack.messages(general) == []  # nothing was said in the channel


async def test_with_amocrm_access_lost_a_command_says_so_and_what_happens_next(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, clock: FakeClock
) -> None:
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    amo.revoke_tokens()  # an amoCRM admin revoked amobridge's token
    clock.advance(REFRESH_S + 1)  # amobridge's copy of the users is old: it must ask amoCRM
    lost = "amoCRM access is lost, so this cannot be done now. The admins know how to restore it."

    await amo_tells(slack, ivan, "tasks", lost)
    newcomer = slack.add_user("Maria Ivanova", email="maria@demo.example")
    await amo_tells(slack, newcomer, "link", lost)
    assert not any("Something went wrong" in message_text(m) for m in slack.ephemerals(ivan))


async def test_the_home_tab_lists_todays_tasks_and_redraws_after_a_click(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    stranger = slack.add_user("Visitor", email="visitor@partner.example")
    acked_in_time(await slack.open_home(stranger))

    async def stranger_home() -> bool:
        return slack.home(stranger) is not None

    await eventually(stranger_home, what="the stranger's home")
    assert "/amo link" in shown(slack.home(stranger).view["blocks"])  # type: ignore[union-attr]

    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    acked_in_time(await slack.open_home(ivan))

    async def home_shows(fragment: str, present: bool = True) -> bool:
        home = slack.home(ivan)
        return home is not None and (fragment in shown(home.view["blocks"])) is present

    async def lists_both() -> bool:
        return await home_shows("Follow up on the Globex renewal") and await home_shows(
            "Call Acme about the license count"
        )

    await eventually(lists_both, what="Ivan's tasks on his home tab")
    home = slack.home(ivan)
    assert home is not None
    complete = next(
        b for b in (e for blk in home.view["blocks"] if blk["type"] == "actions"
                    for e in blk["elements"])
        if b.get("value") == f"t:c:{demo.task_overdue}"
    )  # fmt: skip

    acked_in_time(await slack.click_view(ivan, home.id, complete["action_id"], complete["value"]))

    async def gone() -> bool:
        return await home_shows("Follow up on the Globex renewal", present=False)

    await eventually(gone, what="the completed task to leave the home tab")
    assert amo.task(demo.task_overdue)["is_completed"] is True
    assert await home_shows("Call Acme about the license count")


async def test_a_hanging_home_tab_redraw_holds_up_no_other_alert(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    acked_in_time(await slack.open_home(ivan))
    await eventually(lambda: _has_home(slack, ivan), what="Ivan's home tab")
    maria = await link(service, tg, demo.maria, "Maria")
    slack.faults.add("timeout", count=1, method="views.publish", delay_s=25.0)

    amo.add_task("Call Initech", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 3 * 3600, by_user=demo.admin)  # fmt: skip
    await eventually(lambda: _hanging(slack), what="Ivan's redraw to hang in Slack")
    amo.add_task("Send Umbrella the offer", responsible_user_id=demo.maria,
                 complete_till=int(clock.now()) + 3 * 3600, by_user=demo.admin)  # fmt: skip

    # Maria hears at once (within the 15 s of says), while Slack holds Ivan's redraw for 25 s.
    await says(tg, maria, "Send Umbrella the offer")


async def _hanging(slack: SlackEmulator) -> bool:
    return slack.faults.injected >= 1


async def _has_home(slack: SlackEmulator, user: str) -> bool:
    return slack.home(user) is not None


async def test_a_deactivated_slack_user_is_paused_and_the_admin_told(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await slack_link(slack, "Anna Admin", "anna@demo.example", is_admin=True)
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    slack.deactivate_user(ivan)
    await task_given(service, amo, "Call back", to=demo.ivan,
                     due=int(clock.now()) + 61 * MIN, by=demo.admin)  # fmt: skip
    clock.advance(2 * MIN)

    await slack_says(slack, slack.dm_channel(anna), "Slack no longer takes messages for Ivan")
    assert service.services is not None
    paused = await service.services.links.by_amo(demo.ivan, "slack")
    assert paused is not None
    assert paused.paused


async def test_health_shows_admins_who_cannot_be_reached_and_whether_amocrm_answers(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    ivan_tg = await link(service, tg, demo.ivan, "Ivan")
    anna = await slack_link(slack, "Anna Admin", "anna@demo.example", is_admin=True)
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    slack.deactivate_user(ivan)
    amo.add_task("Call back", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 61 * MIN, by_user=demo.admin)  # fmt: skip
    await slack_says(slack, slack.dm_channel(anna), "Slack no longer takes messages for Ivan")

    report = message_text(await amo_tells(slack, anna, "health", "amobridge health"))
    assert "amoCRM: ✔ " in report
    assert "amoCRM events in the last 24 h: " in report
    assert "Linked: Telegram 1, Slack 2" in report
    assert "Cannot be reached (their messenger refuses them): Ivan Petrov (Slack)" in report

    await tg.send_command(ivan_tg, "health")
    await says(tg, ivan_tg, "Only amoCRM admins can use this command.")
    amo.faults.add("503", count=100, path_prefix="/api/v4/account")
    down = message_text(await amo_tells(slack, anna, "health", "amoCRM: ✖ does not answer"))
    assert "Ivan Petrov (Slack)" in down  # the rest is still told
    amo.faults.clear()


async def test_stray_slack_and_proxy_variables_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
    amo: AmoEmulator,
    demo: DemoIds,
    slack: SlackEmulator,
    clock: FakeClock,
    make_settings: Callable[..., Settings],
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "another-apps-secret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-another-app")
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "another-client-secret")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    async with running_service(make_settings(slack=slack), clock=clock) as service:
        slack.request_url = service.base_url + "/slack/events"
        await synced(service)
        ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
        await slack_card_of(slack, ivan, "Follow up on the Globex renewal")


def _press(element: dict[str, str]) -> dict[str, str]:
    return {"action_id": element["action_id"], "value": element["value"]}


def _deadline_at_least(amo: AmoEmulator, task_id: int, at: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return int(amo.task(task_id)["complete_till"]) >= at

    return check
