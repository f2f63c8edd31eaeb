"""Sending, editing and deleting messages, and the errors Telegram gives for each."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import FakeClock, api_error, keyboard, sent_then_edited

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


async def test_a_chat_that_never_started_the_bot_is_not_found(
    tg: TelegramEmulator, bot: Bot
) -> None:
    stranger = tg.add_user(first_name="Olga")
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(stranger, "hi")
    assert caught.value.message == "Bad Request: chat not found"
    await tg.send_command(stranger, "start")
    sent = await bot.send_message(stranger, "hi")
    assert sent.chat.id == stranger


async def test_an_unknown_group_is_not_found(bot: Bot) -> None:
    error = await api_error(TelegramBadRequest, bot.send_message(-4_999_999_999, "hi"))
    assert error.message == "Bad Request: chat not found"


async def test_a_group_gets_messages_with_its_title(tg: TelegramEmulator, bot: Bot) -> None:
    group = tg.add_group(title="Sales A", members=[])
    sent = await bot.send_message(group, "alert")
    assert group < 0
    assert (sent.chat.type, sent.chat.title) == ("group", "Sales A")


async def test_edit_text_keeps_history_and_stamps_edit_date(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    sent = await bot.send_message(ivan, "Task due", reply_markup=keyboard("t:done:7"))
    clock.advance(30)
    edited = await bot.edit_message_text(
        "✔ <b>Completed</b> by Ivan", chat_id=ivan, message_id=sent.message_id
    )
    assert not isinstance(edited, bool)
    assert edited.edit_date == int(clock.now)
    stored = tg.message(ivan, sent.message_id)
    assert (stored.text, stored.edits) == ("✔ Completed by Ivan", ("Task due",))
    assert stored.html == "✔ <b>Completed</b> by Ivan"
    # An edit without reply_markup removes the keyboard, as on Telegram.
    assert stored.reply_markup is None
    assert edited.reply_markup is None


async def test_the_same_text_and_markup_is_not_modified(
    bot: Bot, ivan: int, clock: FakeClock
) -> None:
    sent = await bot.send_message(ivan, "<b>Task</b>", reply_markup=keyboard("a"))
    clock.advance(1)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "<strong>Task</strong>",
            chat_id=ivan,
            message_id=sent.message_id,
            reply_markup=keyboard("a"),
        )
    assert caught.value.message == NOT_MODIFIED
    clock.advance(1)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ivan, message_id=sent.message_id, reply_markup=keyboard("a")
        )


async def test_a_new_keyboard_alone_is_a_modification(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    message_id = await sent_then_edited(
        bot, clock, ivan, "Task", "a", new_text=None, new_buttons="b"
    )
    stored = tg.message(ivan, message_id)
    assert stored.callback_data == ("b",)
    assert stored.edits == ()
    clock.advance(1)
    await bot.edit_message_reply_markup(chat_id=ivan, message_id=message_id)
    assert tg.message(ivan, message_id).reply_markup is None


async def test_an_edit_that_keeps_the_text_adds_no_history(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    message_id = await sent_then_edited(
        bot, clock, ivan, "Task", "a", new_text="Task", new_buttons="b"
    )
    stored = tg.message(ivan, message_id)
    assert stored.edits == ()
    assert stored.callback_data == ("b",)


async def test_editing_a_missing_or_deleted_message_is_not_found(bot: Bot, ivan: int) -> None:
    error = await api_error(
        TelegramBadRequest, bot.edit_message_text("x", chat_id=ivan, message_id=999)
    )
    assert error.message == "Bad Request: message to edit not found"
    sent = await bot.send_message(ivan, "x")
    assert await bot.delete_message(ivan, sent.message_id) is True
    error = await api_error(
        TelegramBadRequest, bot.edit_message_text("y", chat_id=ivan, message_id=sent.message_id)
    )
    assert error.message == "Bad Request: message to edit not found"
    error = await api_error(TelegramBadRequest, bot.delete_message(ivan, sent.message_id))
    assert error.message == "Bad Request: message to delete not found"


async def test_a_users_message_cannot_be_edited(tg: TelegramEmulator, bot: Bot, ivan: int) -> None:
    own = await tg.send_text(ivan, "my text")
    error = await api_error(
        TelegramBadRequest, bot.edit_message_text("changed", chat_id=ivan, message_id=own)
    )
    assert error.message == "Bad Request: message can't be edited"


async def test_deletion_is_flagged_in_the_transcript(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "oops")
    await bot.delete_message(ivan, sent.message_id)
    stored = tg.message(ivan, sent.message_id)
    assert stored.deleted
    assert stored.text == "oops"


async def test_messages_older_than_48_hours_cannot_be_deleted(
    bot: Bot, ivan: int, clock: FakeClock
) -> None:
    sent = await bot.send_message(ivan, "old")
    clock.advance(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted for everyone"):
        await bot.delete_message(ivan, sent.message_id)


async def test_a_user_who_blocked_the_bot_answers_403(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "before")
    tg.block_bot(ivan)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(ivan, "after")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("edit", chat_id=ivan, message_id=sent.message_id)
    tg.unblock_bot(ivan)
    assert (await bot.send_message(ivan, "again")).text == "again"


async def test_a_deactivated_user_and_a_removed_bot_answer_403(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    group = tg.add_group(title="Sales A", members=[ivan])
    tg.remove_bot_from_group(group, by_user=ivan)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(group, "hi")
    tg.deactivate_user(ivan)
    error = await api_error(TelegramForbiddenError, bot.send_message(ivan, "hi"))
    assert error.message == "Forbidden: user is deactivated"


async def test_the_transcript_holds_both_sides_in_order(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    await tg.send_text(ivan, "hello")
    await bot.send_message(ivan, "hi <i>Ivan</i>")
    transcript = tg.transcript(ivan)
    assert [(m.message_id, m.from_bot, m.text) for m in transcript] == [
        (1, False, "hello"),
        (2, True, "hi Ivan"),
    ]
    assert transcript[0].html is None
    assert transcript[1].date > 0


async def test_wait_for_message_sees_replies_sent_before_the_wait(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    first = await bot.send_message(ivan, "one")
    clock.advance(1)
    await bot.edit_message_text("one, edited", chat_id=ivan, message_id=first.message_id)
    assert (await tg.wait_for_message(ivan, timeout_s=1)).text == "one"
    assert (await tg.wait_for_message(ivan, timeout_s=1)).text == "one, edited"
    with pytest.raises(TimeoutError):
        await tg.wait_for_message(ivan, timeout_s=0.05)


async def test_wait_for_message_skips_to_a_matching_event(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    async def later() -> None:
        await bot.send_message(ivan, "noise")
        clock.advance(1)
        await bot.send_message(ivan, "Code: 123456")

    task = asyncio.create_task(later())
    found = await tg.wait_for_message(ivan, lambda m: m.text.startswith("Code"), timeout_s=5)
    await task
    assert found.text == "Code: 123456"
