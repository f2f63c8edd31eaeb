"""Button presses and their answers: real buttons only, one answer, within the window."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import FakeClock, api_error, keyboard, sent_then_edited

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def test_a_press_becomes_a_callback_query_update(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("t:done:7", "t:snz:7"))
    query_id = await tg.press_button(ivan, ivan, sent.message_id, "t:snz:7")
    (update,) = await bot.get_updates(timeout=1)
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (query_id, "t:snz:7", ivan)
    assert query.chat_instance
    assert isinstance(query.message, Message)  # not an InaccessibleMessage (date 0)
    assert query.message.message_id == sent.message_id


async def test_the_pressed_message_is_shown_as_it_is_now(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    message_id = await sent_then_edited(
        bot, clock, ivan, "v1", "a", new_text="v2", new_buttons="a"
    )
    await tg.press_button(ivan, ivan, message_id, "a")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    message = update.callback_query.message
    assert message is not None
    assert getattr(message, "text", None) == "v2"


async def test_one_answer_is_accepted_a_second_is_refused(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("t:done:7"))
    query_id = await tg.press_button(ivan, ivan, sent.message_id, "t:done:7")
    assert await bot.answer_callback_query(query_id, text="Done ✔") is True
    error = await api_error(TelegramBadRequest, bot.answer_callback_query(query_id))
    assert error.message == TOO_OLD
    first, second = tg.callback_answers
    assert (first.text, first.accepted) == ("Done ✔", True)
    assert (second.repeated, second.accepted) == (True, False)


async def test_an_answer_after_the_window_is_refused_and_marked_late(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("a"))
    on_time = await tg.press_button(ivan, ivan, sent.message_id, "a")
    late = await tg.press_button(ivan, ivan, sent.message_id, "a")
    clock.advance(10)  # exactly at the default 10 s: still in time
    assert await bot.answer_callback_query(on_time) is True
    clock.advance(0.5)
    error = await api_error(TelegramBadRequest, bot.answer_callback_query(late))
    assert error.message == TOO_OLD
    assert [a.late for a in tg.callback_answers] == [False, True]


async def test_the_answer_window_is_settable(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    tg.callback_answer_timeout_s = 2.0
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("a"))
    query_id = await tg.press_button(ivan, ivan, sent.message_id, "a")
    clock.advance(2.5)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_an_unknown_query_id_is_refused(bot: Bot) -> None:
    error = await api_error(TelegramBadRequest, bot.answer_callback_query("12345"))
    assert error.message == TOO_OLD


async def test_answer_text_is_limited_to_200_characters(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("a"))
    query_id = await tg.press_button(ivan, ivan, sent.message_id, "a")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="я" * 201)
    assert await bot.answer_callback_query(query_id, text="я" * 200, show_alert=True)
    (answer,) = tg.callback_answers
    assert answer.show_alert
    assert answer.text == "я" * 200


async def test_press_button_refuses_a_button_that_is_not_on_the_message(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("t:done:7"))
    with pytest.raises(ValueError, match="no button with callback_data 't:done:8'"):
        await tg.press_button(ivan, ivan, sent.message_id, "t:done:8")
    clock.advance(1)
    await bot.edit_message_text("Done", chat_id=ivan, message_id=sent.message_id)
    with pytest.raises(ValueError, match="no button"):
        await tg.press_button(ivan, ivan, sent.message_id, "t:done:7")  # the keyboard is gone
    with pytest.raises(ValueError, match="no bot message"):
        await tg.press_button(ivan, ivan, 999, "t:done:7")
    assert tg.pending_updates == []


async def test_only_people_in_the_chat_can_press(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    olga = tg.add_user(first_name="Olga", started=True)
    group = tg.add_group(title="Sales A", members=[ivan])
    in_private = await bot.send_message(ivan, "Task", reply_markup=keyboard("a"))
    in_group = await bot.send_message(group, "Deal", reply_markup=keyboard("b"))
    with pytest.raises(ValueError, match="not in the private chat"):
        await tg.press_button(olga, ivan, in_private.message_id, "a")
    with pytest.raises(ValueError, match="not a member"):
        await tg.press_button(olga, group, in_group.message_id, "b")
    await tg.press_button(ivan, group, in_group.message_id, "b")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.message is not None
    assert update.callback_query.message.chat.id == group
