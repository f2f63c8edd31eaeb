"""Deal and task alerts end to end, with the default subscriptions: changes made in amoCRM reach
the right people in Telegram and Slack, nobody else, and the deal buttons write back once."""

from __future__ import annotations

from bot.app.wiring import Service
from bot.delivery.outbox import outbox_queue
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, answered, buttons, eventually, link, says, settled
from tests.e2e.slack_helpers import slack_link, slack_says


async def test_a_deal_moved_by_a_colleague_reaches_its_manager_and_nobody_else(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    oleg = await link(service, tg, demo.oleg, "Oleg")  # Sales B, sees his own deals only
    globex = demo.leads[1]  # Ivan's, in Negotiation

    amo.move_lead(globex, demo.contract, by_user=demo.maria)

    alert = await says(tg, ivan, "Deal moved")
    assert "Globex renewal" in alert.text
    assert "Negotiation → Contract (Sales)" in alert.text
    assert "By Maria Ivanova (amoCRM)" in alert.text
    assert set(buttons(alert)) == {"📅 Follow up tomorrow"}
    await settled(service, amo)
    assert not any("Globex" in m.text for m in tg.transcript(oleg))
    # Ivan moving his own deal is no news to him.
    before = len(tg.transcript(ivan))
    amo.move_lead(globex, demo.negotiation, by_user=demo.ivan)
    await settled(service, amo)
    assert len(tg.transcript(ivan)) == before


async def test_a_won_deal_reaches_the_groups_supervisor_in_slack(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator,
    demo: DemoIds,
) -> None:  # fmt: skip
    sergey = await slack_link(slack, "Sergey Supervisor", "sergey@demo.example")  # leads view G
    oleg = await link(service, tg, demo.oleg, "Oleg")  # another group
    umbrella = demo.leads[3]  # Maria's (Sales A)

    amo.move_lead(umbrella, demo.won, by_user=demo.maria)

    won = await slack_says(slack, slack.dm_channel(sergey), "Deal won")
    text = "\n".join(str(b.get("text", {}).get("text", "")) for b in won.blocks)
    assert "Umbrella LLC rollout" in text
    assert "Responsible: Maria Ivanova" in text
    await settled(service, amo)
    assert not any("Umbrella" in m.text for m in tg.transcript(oleg))


async def test_follow_up_tomorrow_writes_one_task_however_often_it_is_pressed(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    acme = demo.leads[0]
    amo.move_lead(acme, demo.qualified, by_user=demo.admin)
    alert = await says(tg, ivan, "Deal moved")
    follow_up = buttons(alert)["📅 Follow up tomorrow"]

    await tg.press_button(ivan, ivan, alert.message_id, follow_up)
    await says(tg, ivan, "Follow-up task created in amoCRM: tomorrow 10:00.")
    await tg.press_button(ivan, ivan, alert.message_id, follow_up)
    await says(tg, ivan, "A follow-up task for tomorrow is already there.")

    added = [amo.task(e["entity_id"]) for e in amo.events() if e["type"] == "task_added"]
    made = [x for x in added if x["text"].startswith("Follow up on “")]
    assert len(made) == 1
    assert (made[0]["responsible_user_id"], made[0]["entity_id"]) == (demo.ivan, acme)
    assert made[0]["complete_till"] > int(clock.now())


async def test_a_task_given_by_a_colleague_arrives_with_its_buttons(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")

    amo.add_task("Prepare the Globex quote", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 6 * 3600, entity_id=demo.leads[1],
                 by_user=demo.maria)  # fmt: skip

    card = await says(tg, ivan, "New task from Maria Ivanova")
    assert "Prepare the Globex quote" in card.text
    assert "✔ Complete" in buttons(card)


async def test_a_digest_subscription_keeps_alerts_for_the_next_morning(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    sergey = await link(service, tg, demo.supervisor, "Sergey")  # hears of wins at once (d3)
    done = await answered(tg, anna, "/subscribe won digest to me", "Subscription s")
    assert "→ Anna Admin (in the daily digest)" in done.text

    amo.move_lead(demo.leads[1], demo.won, by_user=demo.ivan)  # 10:00: Globex won
    amo.move_lead(demo.leads[3], demo.won, by_user=demo.maria)  # and Umbrella

    await says(tg, sergey, "Umbrella LLC rollout")  # instant subscribers are told now
    await settled(service, amo)
    before = len(tg.transcript(anna))
    clock.advance(22 * 3600)  # 08:00 next day: not yet
    await settled(service, amo)
    assert len(tg.transcript(anna)) == before
    clock.advance(3600)  # 09:00: the digest

    digest = await says(tg, anna, "📰 Digest: 2 alert(s)")
    assert "10:00 🏆 Deal won: Globex renewal" in digest.text
    assert "10:00 🏆 Deal won: Umbrella LLC rollout" in digest.text
    amo.move_lead(demo.leads[4], demo.won, by_user=demo.oleg)  # after the digest: tomorrow's
    await settled(service, amo)
    clock.advance(3600)
    await settled(service, amo)
    assert sum("Digest" in m.text for m in tg.transcript(anna)) == 1


async def test_a_handed_over_deal_reaches_the_new_manager_and_no_one_without_view_rights(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    maria = await link(service, tg, demo.maria, "Maria")
    oleg = await link(service, tg, demo.oleg, "Oleg")  # Sales B, sees his own deals only
    await answered(tg, anna, "/subscribe handed to responsible", "Subscription s")
    await answered(tg, anna, '/subscribe handed to group:"Sales B"', "Subscription s")

    amo.set_lead_responsible(demo.leads[1], demo.maria, by_user=demo.ivan)  # Globex → Maria

    alert = await says(tg, maria, "👤 Deal handed over")
    assert "Globex renewal" in alert.text
    assert "Responsible: Maria Ivanova" in alert.text
    assert "By Ivan Petrov (amoCRM)" in alert.text
    await settled(service, amo)
    assert not any("Globex" in m.text for m in tg.transcript(oleg))  # his group, not his deal


async def test_a_completed_task_reaches_whoever_gave_it_unless_they_completed_it(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    sergey = await link(service, tg, demo.supervisor, "Sergey")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    given = amo.add_task("Call Globex about the renewal", responsible_user_id=demo.ivan,
                         complete_till=int(clock.now()) + 3 * 3600, entity_id=demo.leads[1],
                         by_user=demo.supervisor)  # fmt: skip
    own = amo.add_task(
        "Prepare the Globex quote",
        responsible_user_id=demo.supervisor,
        complete_till=int(clock.now()) + 3 * 3600,
        by_user=demo.supervisor,
    )
    await says(tg, ivan, "Call Globex about the renewal")  # d2: a task given to him
    await settled(service, amo)

    amo.complete_task(given, "Renewal agreed", by_user=demo.ivan)

    done = await says(tg, sergey, "Call Globex about the renewal")  # d5: to its author
    assert "Completed by Ivan Petrov" in done.text
    before = len(tg.transcript(sergey))
    amo.complete_task(own, by_user=demo.supervisor)  # his own doing: no news to him
    await settled(service, amo)
    assert len(tg.transcript(sergey)) == before
    # Ivan's own card of the task was edited in place; no alert about his own doing.
    assert sum("Call Globex" in m.text for m in tg.transcript(ivan)) == 1


async def test_a_lost_deal_says_why_on_every_copy(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    sergey = await link(service, tg, demo.supervisor, "Sergey")  # sees Sales A's deals
    anna = await link(service, tg, demo.admin, "Anna")
    maria = await link(service, tg, demo.maria, "Maria")  # d1: her deals' moves
    await answered(tg, anna, '/subscribe lost group:"Sales A" to supervisors', "Subscription s")
    reason = amo.add_loss_reason("Went with a competitor")

    amo.move_lead(demo.leads[3], demo.lost, loss_reason_id=reason, by_user=demo.ivan)

    alert = await says(tg, sergey, "✖ Deal lost")
    assert "Umbrella LLC rollout" in alert.text
    assert "Loss reason: Went with a competitor" in alert.text
    # The responsible's copy (a move, to her) says why too.
    moved = await says(tg, maria, "Umbrella LLC rollout")
    assert "Loss reason: Went with a competitor" in moved.text


async def test_a_deal_stuck_in_its_stage_reaches_the_supervisor_once(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    await answered(tg, anna, '/stale "Negotiation" 5d',
                   "A deal in “Negotiation” counts as stuck after 5 days.")  # fmt: skip
    await answered(tg, anna, "/subscribe stale to supervisors", "Subscription s")
    sergey = await link(service, tg, demo.supervisor, "Sergey")
    fresh = amo.add_lead("Hooli pilot", status_id=demo.negotiation, pipeline_id=demo.pipeline,
                         responsible_user_id=demo.ivan, by_user=demo.ivan)  # fmt: skip
    await settled(service, amo)
    clock.advance(3 * 86400)
    amo.move_lead(fresh, demo.contract, by_user=demo.ivan)  # moved on within the 5 days
    await settled(service, amo)

    clock.advance(3 * 86400)  # Globex (Ivan's) has sat in Negotiation since the seed: 6 days

    alert = await says(tg, sergey, "🐢 Deal stuck in its stage")
    assert "Globex renewal" in alert.text
    assert "In this stage for 6 days" in alert.text
    clock.advance(2 * 3600)  # the next scans find it again, and say nothing more
    await settled(service, amo)
    assert sum("stuck" in m.text for m in tg.transcript(sergey)) == 1
    assert not any("Hooli" in m.text and "stuck" in m.text for m in tg.transcript(sergey))


async def test_a_close_date_near_reaches_the_manager(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    anna = await link(service, tg, demo.admin, "Anna")
    await answered(tg, anna, "/subscribe close_date to responsible", "Subscription s")
    amo.add_lead("Initech renewal", status_id=demo.negotiation, pipeline_id=demo.pipeline,
                 responsible_user_id=demo.ivan, by_user=demo.ivan,
                 closed_at=int(clock.now()) + 10 * 86400)  # fmt: skip
    await settled(service, amo)

    clock.advance(8 * 86400)  # two days left: within the 3 days' notice

    alert = await says(tg, ivan, "⏳ Deal close date is near")
    assert "Initech renewal" in alert.text
    assert "and no result yet" in alert.text


async def test_an_overdue_task_nobody_acts_on_is_escalated_to_the_supervisor(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    sergey = await link(service, tg, demo.supervisor, "Sergey")  # supervises Sales A
    oleg = await link(service, tg, demo.oleg, "Oleg")  # Sales B
    ivan = await link(service, tg, demo.ivan, "Ivan")
    refused = await answered(tg, anna, "/escalate soon",
                             "The escalation delay is 5 minutes to 7 days")  # fmt: skip
    assert "For example: /escalate 2h" in refused.text
    await answered(tg, anna, "/escalate 90m",
                   "not acted on 1 h 30 min after the deadline goes to the group's")  # fmt: skip
    due = int(clock.now()) + 2 * 60
    amo.add_task("Send Globex the signed contract", responsible_user_id=demo.ivan,
                 complete_till=due, entity_id=demo.leads[1], by_user=demo.ivan)  # fmt: skip
    amo.add_task("Call Acme back", responsible_user_id=demo.ivan, complete_till=due,
                 entity_id=demo.leads[0], by_user=demo.ivan)  # fmt: skip
    await settled(service, amo)

    clock.advance(3 * 60)
    await says(tg, sergey, "Overdue task of Ivan Petrov")  # d4, at the deadline
    # Ivan snoozes one of the two: a reaction, so that one is not escalated.
    card = await tg.wait_for_message(
        ivan, lambda m: "Call Acme back" in m.text and "⏸ Snooze" in buttons(m), timeout_s=10
    )
    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["⏸ Snooze"])
    menu = await tg.wait_for_message(ivan, lambda m: "1 hour" in buttons(m), timeout_s=10)
    await tg.press_button(ivan, ivan, menu.message_id, buttons(menu)["1 hour"])
    await says(tg, ivan, "Moved to")

    clock.advance(90 * 60)

    escalated = await says(tg, sergey, "⏫ No reaction: Ivan Petrov has not acted on an overdue")
    assert "Send Globex the signed contract" in escalated.text
    assert "✔ Complete" in buttons(escalated)  # the supervisor can act on it himself

    async def all_sent() -> bool:  # Acme's would have been queued by the same scan
        return await service.store.count_due(outbox_queue("telegram")) == 0

    await eventually(all_sent, what="the outbox to empty")
    assert not [m for m in tg.transcript(sergey) if "⏫" in m.text and "Acme" in m.text]
    assert not [m for m in tg.transcript(oleg) if "⏫" in m.text]
    assert not [m for m in tg.transcript(ivan) if "⏫" in m.text]
