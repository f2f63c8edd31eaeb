"""Reports on a schedule: an admin subscribes a Telegram group and a Slack channel to the weekly
report (and herself, privately), and on Monday at 09:00 (the account's time, Moscow) the chart
arrives in each, once, also with two replicas sharing Redis; a chat unsubscribed gets nothing,
and a Monday the service missed by more than three hours is skipped, not sent late."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from bot.admin.config_yaml import ImportPlan
from bot.alerts.scheduled import QUEUE
from bot.app.settings import Settings
from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.conftest import serving, webhook_mode
from tests.e2e.helpers import FakeClock, answered, eventually, link, says, synced, travel_to
from tests.e2e.slack_helpers import amo_tells, slack_admin

PNG = b"\x89PNG\r\n\x1a\n"
MOSCOW = ZoneInfo("Europe/Moscow")  # the seeded account's timezone
WEEK = 7 * 86400


def next_monday_nine(clock: FakeClock) -> float:
    now = dt.datetime.fromtimestamp(clock.now(), MOSCOW)
    monday = now.date() + dt.timedelta(days=(7 - now.weekday()) % 7 or 7)
    return dt.datetime.combine(monday, dt.time(9, 0), MOSCOW).timestamp()


def photos(tg: TelegramEmulator, chat: int) -> list[float]:
    """When each chart the bot posted in ``chat`` arrived."""
    return [m.date for m in tg.transcript(chat) if m.from_bot and m.photo is not None]


def files(slack: SlackEmulator, channel: str) -> list[float]:
    return [float(m.ts) for m in slack.messages(channel) if m.files]


async def subscribed_here(tg: TelegramEmulator, admin: int, chat: int) -> str:
    await tg.send_command(admin, "subscribe", "report weekly to here", chat_id=chat)
    told = await says(tg, chat, "Report for the week, Mondays at 09:00")
    found = re.search(r"Subscription (s[0-9a-f]{6})", told.text)
    assert found is not None
    return found.group(1)


async def planned_for(service: Service, moment: float, count: int) -> None:
    """The queue holds ``count`` sendings, the earliest at ``moment``."""

    async def planned() -> bool:
        store = service.store
        return (await store.earliest_due(QUEUE), await store.count_due(QUEUE)) == (moment, count)

    await eventually(planned, what=f"{count} report sendings planned from {moment}")


async def drained(service: Service) -> None:
    """Both outboxes empty at once: every copy queued so far is in its chat (for a count)."""

    async def empty() -> bool:
        queues = ("outbox:telegram", "outbox:slack")
        return not any([await service.store.count_due(queue) for queue in queues])

    await eventually(empty, what="the outboxes to drain")


async def told_of_a_task(service: Service, tg: TelegramEmulator, amo: AmoEmulator,
                         demo: DemoIds, clock: FakeClock) -> None:  # fmt: skip
    """Something for the report to show: Ivan is told of a task Maria gave him."""
    ivan = await link(service, tg, demo.ivan, "Ivan")
    amo.add_task("Call Acme about the renewal", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 3 * 3600, by_user=demo.maria)  # fmt: skip
    await says(tg, ivan, "Call Acme about the renewal")


async def test_the_weekly_report_arrives_once_on_monday_at_nine_where_subscribed(
    service: Service, tg: TelegramEmulator, slack: SlackEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    anna = await link(service, tg, demo.admin, "Anna")
    sales = tg.add_group("Sales team", members=[anna])
    board = tg.add_group("Board", members=[anna])
    await subscribed_here(tg, anna, sales)
    dropped = await subscribed_here(tg, anna, board)
    await answered(tg, anna, f"/unsubscribe {dropped}", f"Subscription {dropped} is off.")
    anna_slack = await slack_admin(slack)
    deals = slack.add_channel("deals", [anna_slack])
    await amo_tells(slack, anna_slack, "subscribe report weekly to here", "Subscription s",
                    channel_id=deals)  # fmt: skip
    # Typed in her private chat, "to me" (here): the report comes to her alone.
    await answered(tg, anna, "/subscribe report weekly", "→ Anna Admin")
    # To supervisors: each gets their own group's (Sergey sees all of Sales A; Sales B has none).
    sergey = await link(service, tg, demo.supervisor, "Sergey")
    await answered(tg, anna, "/subscribe report weekly to supervisors", "group's supervisors")
    await told_of_a_task(service, tg, amo, demo, clock)
    assert service.services is not None
    listed = await answered(tg, anna, "/subscriptions", "Report for the week")
    assert "→ Telegram chat" in listed.text
    assert "→ Slack channel" in listed.text
    # The set-up file names it as a rule that makes it again.
    exported = await service.services.admin.config.export("en")
    assert f"rule: report weekly mon 09:00 to telegram:{sales}" in exported
    assert f"rule: report weekly mon 09:00 to slack:{deals}" in exported
    importer = await service.services.directory.user(demo.admin)
    assert importer is not None
    again = await service.services.admin.config.plan(exported, importer, "en")
    assert isinstance(again, ImportPlan)
    assert again.subscriptions == tuple(await service.services.subscriptions.configured())
    monday = next_monday_nine(clock)

    travel_to(clock, dt.datetime.fromtimestamp(monday - 2, MOSCOW))

    async def arrived() -> bool:
        return all((photos(tg, sales), files(slack, deals), photos(tg, anna), photos(tg, sergey)))

    await eventually(arrived, what="the report in the group and in the channel")
    [chart] = [m for m in tg.transcript(sales) if m.photo is not None]
    assert chart.photo is not None
    assert chart.photo.data.startswith(PNG)
    assert dt.datetime.fromtimestamp(monday, MOSCOW).strftime("%d.%m.%Y") in chart.text
    [shared] = [m for m in slack.messages(deals) if m.files]
    assert slack.file(shared.files[0]["id"]).data.startswith(PNG)
    await planned_for(service, monday + WEEK, 4)  # next week's, the unsubscribed one dropped
    await drained(service)
    assert monday <= chart.date < monday + 60
    assert len(photos(tg, anna)) == 1
    [sergeys] = [m for m in tg.transcript(sergey) if m.photo is not None]
    assert "· Sales A" in sergeys.text
    assert monday <= float(shared.ts) < monday + 60
    assert photos(tg, board) == []

    # The service is down over the next Monday morning: back at 12:05, the report is skipped.
    caplog.set_level(logging.INFO, logger="bot.alerts.scheduled")
    travel_to(clock, dt.datetime.fromtimestamp(monday + WEEK + 3 * 3600 + 300, MOSCOW))
    await planned_for(service, monday + 2 * WEEK, 4)
    await drained(service)
    assert len(photos(tg, anna)) == 1
    assert len(photos(tg, sales)) == 1
    assert len(files(slack, deals)) == 1
    assert "min late" in caplog.text


@pytest.mark.parametrize("store_url", ["redis"], indirect=True)
async def test_two_replicas_on_redis_send_the_report_once(
    make_settings: Callable[..., Settings], tg: TelegramEmulator, slack: SlackEmulator,
    amo: AmoEmulator, demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    # Telegram updates by webhook: two replicas cannot both long-poll one bot.
    settings = make_settings(telegram=tg, slack=slack)
    async with serving(webhook_mode(settings, tg, "first"), clock, slack=slack) as first:
        await synced(first)
        anna = await link(first, tg, demo.admin, "Anna")
        sales = tg.add_group("Sales team", members=[anna])
        await subscribed_here(tg, anna, sales)
        anna_slack = await slack_admin(slack)
        deals = slack.add_channel("deals", [anna_slack])
        await amo_tells(slack, anna_slack, "subscribe report weekly to here", "Subscription s",
                        channel_id=deals)  # fmt: skip
        await told_of_a_task(first, tg, amo, demo, clock)
        async with serving(webhook_mode(settings, tg, "second"), clock, slack=slack) as second:
            monday = next_monday_nine(clock)
            travel_to(clock, dt.datetime.fromtimestamp(monday - 1, MOSCOW))
            await planned_for(second, monday + WEEK, 2)  # both sent, the next week's planned

            async def out() -> bool:
                return bool(photos(tg, sales)) and bool(files(slack, deals))

            await eventually(out, what="the report in the group and in the channel")
            await drained(second)  # the store is shared: what either replica queued
            assert len(photos(tg, sales)) == 1
            assert len(files(slack, deals)) == 1
