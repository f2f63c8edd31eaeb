"""Groups as the Bot API has them: a forum's topics (a message in a topic carries its
message_thread_id, and the bot posts into a topic by it), and a bot whose right to post was taken
away (400 "not enough rights")."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ChatMemberRestricted

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import api_error


async def test_a_forum_topic_carries_its_thread_both_ways(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    forum = tg.add_group(title="Sales", members=[ivan], forum=True)
    deals = tg.add_topic(forum)
    await tg.send_text(ivan, "in the topic", chat_id=forum, thread_id=deals)
    [update] = await bot.get_updates()
    assert update.message is not None
    assert (update.message.message_thread_id, update.message.is_topic_message) == (deals, True)
    assert update.message.chat.type == "supergroup"
    assert str(forum).startswith("-100")

    sent = await bot.send_message(forum, "into the topic", message_thread_id=deals)
    general = await bot.send_message(forum, "to General")

    assert (sent.message_thread_id, general.message_thread_id) == (deals, None)
    assert [m.thread_id for m in tg.transcript(forum)] == [deals, deals, None]
    wrong = bot.send_message(forum, "x", message_thread_id=deals + 100)
    assert (await api_error(TelegramBadRequest, wrong)).message.endswith("thread not found")
    with pytest.raises(ValueError, match="no topic"):
        await tg.send_text(ivan, "x", chat_id=forum, thread_id=deals + 100)


async def test_a_bot_without_the_right_to_post_is_refused(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    group = tg.add_group(title="Sales A", members=[ivan])
    tg.set_bot_can_post(group, False)
    refused = await api_error(TelegramBadRequest, bot.send_message(group, "hi"))
    assert refused.message == "Bad Request: not enough rights to send text messages to the chat"
    tg.set_bot_can_post(group, True)
    assert (await bot.send_message(group, "hi")).text == "hi"
    told = [u.my_chat_member for u in await bot.get_updates() if u.my_chat_member is not None]
    changes = [(c.old_chat_member.status, c.new_chat_member.status) for c in told]
    assert changes == [("member", "restricted"), ("restricted", "member")]
    assert isinstance(told[0].new_chat_member, ChatMemberRestricted)
    assert told[0].new_chat_member.can_send_messages is False
