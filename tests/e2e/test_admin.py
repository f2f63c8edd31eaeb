"""Admins configure alerts with commands, in Telegram and in Slack: subscriptions, thresholds,
the list with its remove buttons; mistakes and non-admins change nothing."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.alerts.subscriptions import AlertSettings
from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, answered, buttons, eventually, link, says, settled
from tests.e2e.slack_helpers import (
    acked_in_time,
    amo_tells,
    message_text,
    slack_admin,
    slack_says,
    tells,
)


async def configured(service: Service) -> list[str]:
    assert service.services is not None
    return [s.id for s in await service.services.subscriptions.configured()]


async def test_an_admin_sets_a_threshold_and_subscribes_to_big_deals(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    await answered(tg, anna, "/threshold big 1000000", "A big deal is 1 000 000 or more.")
    await tg.send_command(anna, "subscribe", "big_deal pipeline:sales to me")
    await says(tg, anna, "Big deal · pipeline Sales → Anna Admin. To remove it: /unsubscribe")

    amo.add_lead("Initech enterprise", status_id=demo.incoming, pipeline_id=demo.pipeline,
                 responsible_user_id=demo.maria, price=1_500_000, by_user=demo.maria)  # fmt: skip

    alert = await says(tg, anna, "💰 Big deal")
    assert "Initech enterprise" in alert.text
    assert "Amount: 1 500 000" in alert.text


async def test_a_subscription_by_task_type_says_the_type_it_keeps(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    await tg.send_command(anna, "subscribe", 'task_created type:"встреча" to me')
    await says(tg, anna, "New task from … · task type Встреча → Anna Admin.")
    await tg.send_command(anna, "subscriptions")
    await says(tg, anna, "task type Встреча")


async def test_mistakes_and_non_admins_change_nothing_and_get_an_example(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    await answered(tg, ivan, "/subscribe won to me", "Only amoCRM admins can use this command.")
    anna = await link(service, tg, demo.admin, "Anna")
    wrong = await answered(tg, anna, '/subscribe won pipeline:"Salse"',
                           "No pipeline “Salse”. Did you mean “Sales”?")  # fmt: skip
    assert "For example: /subscribe won" in wrong.text
    await answered(tg, anna, "/subscribe frobnicate to me", "I don't know the event “frobnicate”")
    await answered(tg, anna, '/subscribe moved to user:"Nobody Known"', "No user “Nobody Known”")

    assert await configured(service) == []


async def test_the_list_removes_a_default_with_a_button_and_it_stays_off(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    listing = await answered(tg, anna, "/subscriptions", "Subscriptions")
    assert "d1 · ➡ Deal moved → the responsible (default)" in listing.text

    await tg.press_button(anna, anna, listing.message_id, buttons(listing)["✖ Remove d1"])
    await says(tg, anna, "Subscription d1 is off.")

    before = len(tg.transcript(ivan))
    amo.move_lead(demo.leads[1], demo.contract, by_user=demo.maria)  # Ivan's deal
    await settled(service, amo)
    assert len(tg.transcript(ivan)) == before  # the default is off: no "deal moved"


async def test_a_slack_channel_gets_won_deals_without_the_amount_unless_asked(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await slack_admin(slack)
    sales = slack.add_channel("sales", [anna])

    acked_in_time(await slack.slash_command(anna, "/amo", "subscribe won to here",
                                            channel_id=sales))  # fmt: skip
    done = await tells(slack, anna, "Subscription s")
    assert f"Slack channel {sales}" in message_text(done)
    amo.move_lead(demo.leads[3], demo.won, by_user=demo.maria)  # Umbrella, 1 200 000

    won = await slack_says(slack, sales, "Deal won")
    text = message_text(won)
    assert "Umbrella LLC rollout" in text
    assert "Responsible: Maria Ivanova" in text
    assert "Amount" not in text  # a shared channel: the amount is hidden by default
    assert "Follow up" not in text  # no personal buttons in a shared channel

    acked_in_time(await slack.slash_command(
        anna, "/amo", "subscribe lost fields:name,price to here", channel_id=sales
    ))  # fmt: skip
    await tells(slack, anna, "Subscription s")
    amo.move_lead(demo.leads[4], demo.lost, by_user=demo.oleg)  # Stark, 300 000
    lost = await slack_says(slack, sales, "Deal lost")
    assert "Amount: 300 000" in message_text(lost)
    assert "Responsible" not in message_text(lost)


async def test_preview_counts_what_a_subscription_would_have_sent_and_sends_nothing(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    amo.move_lead(demo.leads[4], demo.lost, by_user=demo.oleg)  # Stark: lost, before subscribing
    await settled(service, amo)
    done = await answered(tg, anna, "/subscribe lost to me", "Subscription s")
    subscription = done.text.split()[1].rstrip(":")

    await tg.send_command(anna, "preview", f"{subscription} 7d")

    preview = await says(tg, anna, f"Preview of {subscription} over 7 days")
    assert "it would have sent 1 alerts (Anna Admin 1). Nothing was sent." in preview.text
    assert "Stark Industries expansion" in preview.text
    await settled(service, amo)
    assert not any("✖ Deal lost" in m.text and "💼" in m.text for m in tg.transcript(anna))
    await answered(tg, anna, "/preview s404 7d", "There is no subscription s404.")

    # A heading that names who did it names them in the preview too.
    amo.add_task("Send Stark the new terms", responsible_user_id=demo.ivan,
                 complete_till=int(time.time()) + 86_400, by_user=demo.maria)  # fmt: skip
    await settled(service, amo)
    done = await answered(tg, anna, "/subscribe new_task to me", "Subscription s")
    tasks = done.text.split()[1].rstrip(":")
    preview = await answered(tg, anna, f"/preview {tasks} 7d", f"Preview of {tasks}")
    assert "New task from Maria Ivanova «Send Stark the new terms»" in preview.text


async def test_an_overdue_task_reaches_the_groups_supervisor(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    sergey = await link(service, tg, demo.supervisor, "Sergey")  # leads view G in Sales A
    oleg = await link(service, tg, demo.oleg, "Oleg")  # Sales B
    amo.add_task("Send Globex the signed contract", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 2 * 60, entity_id=demo.leads[1],
                 by_user=demo.ivan)  # fmt: skip
    await settled(service, amo)

    clock.advance(3 * 60)

    alert = await says(tg, sergey, "Overdue task of Ivan Petrov")
    assert "Send Globex the signed contract" in alert.text
    assert not any("Send Globex" in m.text for m in tg.transcript(oleg))


async def web_form_deal(
    tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, anna: int, name: str
) -> int:
    """Anna (admin) has new deals offered to the group Sales A; then a deal ``name`` comes from a
    web form: amoCRM puts it on the integration's user, nobody has it yet."""
    await answered(tg, anna, '/subscribe new_deal to group:"Sales A"', "Subscription s")
    return amo.add_lead(name, status_id=demo.incoming, pipeline_id=demo.pipeline,
                        responsible_user_id=demo.admin, by_user=demo.admin)  # fmt: skip


async def test_take_it_pressed_by_two_managers_at_once_assigns_the_deal_once(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # the integration's own user, too
    ivan = await link(service, tg, demo.ivan, "Ivan")
    maria = await link(service, tg, demo.maria, "Maria")
    deal = await web_form_deal(tg, amo, demo, anna, "Web form: Hooli")
    for_ivan = await says(tg, ivan, "Web form: Hooli")
    for_maria = await says(tg, maria, "Web form: Hooli")

    await asyncio.gather(
        tg.press_button(ivan, ivan, for_ivan.message_id, buttons(for_ivan)["🙋 Take it"]),
        tg.press_button(maria, maria, for_maria.message_id, buttons(for_maria)["🙋 Take it"]),
    )

    await eventually(
        lambda: _taken(amo, deal, (demo.ivan, demo.maria)), what="the deal to be taken"
    )
    winner = amo.lead(deal)["responsible_user_id"]
    loser, name = (maria, "Ivan Petrov") if winner == demo.ivan else (ivan, "Maria Ivanova")
    await says(tg, loser, f"{name} has already taken this deal.")

    async def both_cards_say_who() -> bool:
        cards = [tg.message(ivan, for_ivan.message_id), tg.message(maria, for_maria.message_id)]
        return all(f"Taken by {name} (Telegram)" in c.text and not buttons(c) for c in cards)

    await eventually(both_cards_say_who, what="both cards to say who took the deal")
    writes = [r for r in amo.request_log if r.method == "PATCH" and r.path.endswith(f"/{deal}")]
    assert len(writes) == 1


async def test_take_it_without_edit_rights_is_refused_and_the_deal_stays_free(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    # Pavel may see every deal of the account but change none.
    pavel_id = amo.add_user("Pavel Viewer", "pavel@demo.example", group_id=demo.group_a,
                            leads_view="A", leads_edit="D")  # fmt: skip
    assert service.services is not None
    await service.services.directory.refresh()
    anna = await link(service, tg, demo.admin, "Anna")
    pavel = await link(service, tg, pavel_id, "Pavel")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    deal = await web_form_deal(tg, amo, demo, anna, "Web form: Globex")
    for_pavel = await says(tg, pavel, "Web form: Globex")
    for_ivan = await says(tg, ivan, "Web form: Globex")

    await tg.press_button(pavel, pavel, for_pavel.message_id, buttons(for_pavel)["🙋 Take it"])

    await says(tg, pavel, "Your amoCRM rights do not allow you to change deals")
    assert amo.lead(deal)["responsible_user_id"] == demo.admin
    assert not [r for r in amo.request_log if r.method == "PATCH" and r.path.endswith(f"/{deal}")]
    # Nothing is held by the refused press: Ivan takes the deal right after.
    await tg.press_button(ivan, ivan, for_ivan.message_id, buttons(for_ivan)["🙋 Take it"])
    await eventually(lambda: _taken(amo, deal, (demo.ivan,)), what="Ivan to take the deal")


async def _taken(amo: AmoEmulator, deal: int, by: tuple[int, ...]) -> bool:
    return amo.lead(deal)["responsible_user_id"] in by


async def exported_file(slack: SlackEmulator, user: str) -> str:
    """The YAML of the latest file the app shared into ``user``'s direct message."""
    dm = slack.dm_channel(user)
    shared = await slack_says(slack, dm, "alert set-up")
    [file] = shared.files
    return slack.file(file["id"]).data.decode()


async def test_config_export_then_an_import_with_one_bad_entry_changes_nothing(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await slack_admin(slack)
    for rule in ("won price>=500000 to supervisors", 'moved pipeline:sales to group:"Sales B"'):
        await amo_tells(slack, anna, f"subscribe {rule}", "Subscription s")
    await amo_tells(slack, anna, "threshold big 750000", "A big deal is 750 000 or more.")
    await amo_tells(slack, anna, "unsubscribe d3", "Subscription d3 is off.")
    before = await configured(service)

    await amo_tells(slack, anna, "config export",
                    "amobridge-config.yaml is in your direct messages")  # fmt: skip
    exported = await exported_file(slack, anna)
    assert "big_deal_threshold: 750000" in exported
    assert "defaults_off:\n- d3" in exported
    assert "rule: won price>=500000 to supervisors" in exported
    assert 'rule: moved pipeline:Sales to group:"Sales B"' in exported

    # One subscription added, one mistyped: the import is refused as a whole.
    edited = exported.replace("big_deal_threshold: 750000", "big_deal_threshold: 2000000")
    edited += "- rule: lost to user:Sergey\n- rule: won pipeline:Salse to me\n"
    refused = message_text(
        await amo_tells(slack, anna, f"config import\n{edited}", "Nothing was changed")
    )
    assert "subscription #4 (—): No pipeline “Salse”. Did you mean “Sales”?" in refused
    assert await configured(service) == before
    settings = await _settings(service)
    assert settings.big_deal_price == 750_000

    # Without the mistake it replaces the whole set-up, and the new subscription works.
    good = edited.replace("- rule: won pipeline:Salse to me\n", "")
    await amo_tells(slack, anna, f"config import\n{good}",
                    "Set-up imported: 3 subscriptions, 1 built-in ones switched off.")  # fmt: skip
    after = await configured(service)
    assert set(before) < set(after)  # the exported ids are kept
    assert len(after) == 3
    assert (await _settings(service)).big_deal_price == 2_000_000
    listing = message_text(await amo_tells(slack, anna, "subscriptions", "Subscriptions"))
    assert "Deal lost → Sergey Supervisor" in listing
    sergey = await link(service, tg, demo.supervisor, "Sergey")
    amo.move_lead(demo.leads[1], demo.lost, by_user=demo.ivan)  # Ivan's Globex deal: lost
    alert = await says(tg, sergey, "Deal lost")  # the imported subscription at work
    assert "Globex" in alert.text


async def test_config_import_of_a_broken_file_names_every_mistake(
    service: Service, slack: SlackEmulator
) -> None:
    anna = await slack_admin(slack)
    broken = "version: 1\nsubscriptions:\n  - rule: won to me\n    colour: red\n  - {}\nfoo: 1\n"
    refused = message_text(
        await amo_tells(slack, anna, f"config import\n{broken}", "Nothing was changed")
    )
    assert "subscriptions[1].colour: no such key" in refused
    assert "subscriptions[2].rule: this field is missing" in refused
    assert "foo: no such key" in refused
    await amo_tells(slack, anna, "config import\nversion: [1", "line 1: this is not valid YAML")
    assert await configured(service) == []


async def _settings(service: Service) -> AlertSettings:
    assert service.services is not None
    return await service.services.subscriptions.settings()


async def test_config_round_trip_in_telegram_as_files(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    await answered(tg, anna, "/subscribe big_deal digest to supervisors", "Subscription s")
    await answered(tg, anna, '/supervisor group:"Sales A" user:Sergey', "Sergey Supervisor")
    await answered(tg, anna, "/stale Negotiation 5d", "counts as stuck after 5 days")
    before = await configured(service)
    settings = await _settings(service)

    sent = await answered(tg, anna, "/config export", "The alert set-up: 1 subscriptions")
    assert sent.document is not None
    assert sent.document.file_name == "amobridge-config.yaml"
    exported = sent.document.data.decode()
    assert "rule: big_deal digest to supervisors" in exported

    edited = exported.replace("big_deal_threshold: null", "big_deal_threshold: 900000")
    await tg.send_document(anna, "set-up.yaml", edited.encode(), caption="/config import")
    await says(tg, anna, "Set-up imported: 1 subscriptions, 0 built-in ones switched off.")
    assert await configured(service) == before
    imported = await _settings(service)
    assert imported.big_deal_price == 900_000
    assert (imported.supervisors, imported.stale_days) == (
        settings.supervisors, settings.stale_days,
    )  # fmt: skip

    await tg.send_document(ivan, "set-up.yaml", b"version: 1\n", caption="/config import")
    await says(tg, ivan, "Only amoCRM admins can use this command.")
    await tg.send_document(anna, "photo.bin", b"\xff\xfe\x00bad", caption="/config import")
    await says(tg, anna, "That is not a YAML text file")
    await tg.send_document(anna, "notes.txt", b"hello")
    await says(tg, anna, "The only file I take is for /config import")
    assert (await _settings(service)).big_deal_price == 900_000


async def test_config_import_form_in_slack_shows_mistakes_under_the_text(
    service: Service, slack: SlackEmulator
) -> None:
    anna = await slack_admin(slack)
    acked_in_time(await slack.slash_command(anna, "/amo", "config import"))
    form = await slack.wait_for_view(anna, lambda v: v.view.get("callback_id") == "config_import")
    wrong = await slack.submit_view(
        anna, form.id, {"answer": {"value": "subscriptions:\n- rule: won to user:Nobody\n"}}
    )
    acked_in_time(wrong)
    assert "Nothing was changed" in wrong.errors["answer"]
    assert "No user “Nobody”" in wrong.errors["answer"]
    assert "/amo config import" in wrong.errors["answer"]
    assert await configured(service) == []

    done = await slack.submit_view(
        anna, form.id, {"answer": {"value": "subscriptions:\n- rule: won to user:Anna\n"}}
    )

    acked_in_time(done)
    await tells(slack, anna, "Set-up imported: 1 subscriptions")
    assert len(await configured(service)) == 1


async def test_a_deal_made_and_raised_over_the_control_api_is_a_big_deal(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    """What a person trying big-deal alerts by hand does: a small deal, then its budget raised
    past the threshold, with the emulator's control API."""
    anna = await link(service, tg, demo.admin, "Anna")
    await answered(tg, anna, "/threshold big 1000000", "A big deal is 1 000 000 or more.")
    await tg.send_command(anna, "subscribe", "big_deal to me")
    await says(tg, anna, "To remove it: /unsubscribe")
    async with httpx.AsyncClient(base_url=f"{amo.base_url}/_control") as control:
        made = await control.post("/leads", json={
            "name": "Umbrella pilot", "responsible_user_id": demo.maria, "price": 10_000,
            "by_user": demo.maria,
        })  # fmt: skip
        assert made.status_code == 201
        await settled(service, amo)
        assert not any("Umbrella" in m.text for m in tg.transcript(anna))  # not big yet
        raised = await control.patch(f"/leads/{made.json()['id']}",
                                     json={"price": 1_200_000, "by_user": demo.maria})  # fmt: skip
        assert raised.status_code == 200

    alert = await says(tg, anna, "💰 Big deal")
    assert "Umbrella pilot" in alert.text
    assert "Amount: 1 200 000" in alert.text
