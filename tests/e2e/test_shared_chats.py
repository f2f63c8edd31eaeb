"""Shared chats that work: a subscription "to here" in a Slack channel the app is not in joins it
(public) or explains how to invite the app (private); typed in a Telegram forum's topic, it posts
into that topic; a chat that later refuses the bot pauses its subscriptions and the admins are
told once; they resume when the chat takes the bot again (Telegram says so) or on a new "to
here" there."""

from __future__ import annotations

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import answered, eventually, link, says, settled
from tests.e2e.slack_helpers import amo_tells, message_text, slack_admin, slack_says


async def subscriptions(service: Service) -> list[tuple[str, bool]]:
    assert service.services is not None
    return [(s.id, s.paused) for s in await service.services.subscriptions.configured()]


async def test_a_public_channel_is_joined_a_private_one_explained(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await slack_admin(slack)
    deals = slack.add_channel("deals", [anna], bot_member=False)
    board = slack.add_channel("board", [anna], bot_member=False, private=True)

    await amo_tells(slack, anna, "subscribe won to here", "Subscription s", channel_id=deals)
    assert slack.bot_is_member(deals)  # the app joined the channel
    amo.move_lead(demo.leads[3], demo.won, by_user=demo.maria)
    await slack_says(slack, deals, "Deal won")

    told = await amo_tells(slack, anna, "subscribe lost to here", "Invite me", channel_id=board)
    assert "/invite @amobridge" in message_text(told)
    assert len(await subscriptions(service)) == 1  # nothing subscribed for the private channel
    slack.set_bot_member(board, True)  # a member invited the app
    await amo_tells(slack, anna, "subscribe lost to here", "Subscription s", channel_id=board)


async def test_a_channel_that_drops_the_app_pauses_its_subscription_until_resubscribed(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await slack_admin(slack)
    deals = slack.add_channel("deals", [anna])
    await amo_tells(slack, anna, "subscribe won to here", "Subscription s", channel_id=deals)
    [(sid, _)] = await subscriptions(service)

    slack.set_bot_member(deals, False)  # someone removed the app from the channel
    amo.move_lead(demo.leads[3], demo.won, by_user=demo.maria)
    notice = await slack_says(slack, slack.dm_channel(anna), "I can no longer post")
    assert sid in message_text(notice)

    async def paused() -> bool:
        return await subscriptions(service) == [(sid, True)]

    await eventually(paused, what="the subscription to be paused")
    listed = await amo_tells(slack, anna, "subscriptions", sid)
    assert "paused" in message_text(listed)
    amo.move_lead(demo.leads[0], demo.won, by_user=demo.maria)  # while paused: no new notice
    await settled(service, amo)
    dm = slack.messages(slack.dm_channel(anna))
    assert sum("I can no longer post" in message_text(m) for m in dm) == 1

    await amo_tells(slack, anna, "subscribe lost to here", "Subscription s", channel_id=deals)
    assert (sid, False) in await subscriptions(service)  # resumed, the app back in
    amo.move_lead(demo.leads[1], demo.won, by_user=demo.maria)
    resumed = await slack_says(slack, deals, "Deal won")
    assert "Globex" in message_text(resumed)


async def test_to_here_in_a_telegram_topic_posts_into_that_topic(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    forum = tg.add_group(title="Sales", members=[anna], forum=True)
    deals = tg.add_topic(forum)
    await tg.send_command(anna, "subscribe", "won to here", chat_id=forum, thread_id=deals)
    done = await says(tg, forum, "Subscription s")
    assert done.thread_id == deals  # answered in the topic it was typed in

    amo.move_lead(demo.leads[3], demo.won, by_user=demo.maria)

    won = await says(tg, forum, "Deal won")
    assert won.thread_id == deals
    assert "Umbrella LLC rollout" in won.text


async def test_a_telegram_group_that_takes_the_bots_rights_pauses_its_subscription(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    group = tg.add_group(title="Sales A", members=[anna])
    await tg.send_command(anna, "subscribe", "won to here", chat_id=group)
    await says(tg, group, "Subscription s")
    [(sid, _)] = await subscriptions(service)

    tg.set_bot_can_post(group, False)  # an admin of the group took the right to post
    amo.move_lead(demo.leads[3], demo.won, by_user=demo.maria)

    notice = await says(tg, anna, "I can no longer post in the Telegram group")
    assert sid in notice.text
    listed = await answered(tg, anna, "/subscriptions", sid)
    assert "paused" in listed.text
    amo.move_lead(demo.leads[0], demo.won, by_user=demo.maria)  # paused: no second notice
    await settled(service, amo)
    assert sum("I can no longer post" in m.text for m in tg.transcript(anna)) == 1
    tg.set_bot_can_post(group, True)  # Telegram tells the bot (my_chat_member): it resumes

    async def resumed() -> bool:
        return await subscriptions(service) == [(sid, False)]

    await eventually(resumed, what="the subscription to resume")
    amo.move_lead(demo.leads[1], demo.won, by_user=demo.maria)
    won = await says(tg, group, "Deal won")
    assert "Globex" in won.text
