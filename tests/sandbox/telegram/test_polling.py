"""getUpdates as a real long poll, its offset and conflicts, and a real aiogram Dispatcher."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import api_error, eventually, keyboard

OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


async def test_a_held_poll_returns_as_soon_as_an_update_arrives(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await eventually(lambda: tg.long_poll_waiting)
    await tg.send_text(ivan, "hello")
    updates = await asyncio.wait_for(poll, timeout=5)
    assert time.monotonic() - started < 5  # far below the 30 s the poll may be held
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_a_poll_with_nothing_to_return_is_held_for_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_offset_confirms_and_drops_earlier_updates(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    for text in ("a", "b", "c"):
        await tg.send_text(ivan, text)
    first = await bot.get_updates()
    assert len(first) == 3
    again = await bot.get_updates()  # nothing confirmed yet: the same three
    assert [u.update_id for u in again] == [u.update_id for u in first]
    rest = await bot.get_updates(offset=first[1].update_id)
    assert [u.message.text for u in rest if u.message] == ["b", "c"]
    assert await bot.get_updates(offset=first[2].update_id + 1) == []
    assert tg.pending_updates == []


async def test_a_negative_offset_keeps_only_the_last_updates(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    for text in "abcde":
        await tg.send_text(ivan, text)
    last_two = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last_two if u.message] == ["d", "e"]
    assert len(tg.pending_updates) == 2


async def test_limit_is_clamped_to_1_to_100(tg: TelegramEmulator, bot: Bot, ivan: int) -> None:
    for n in range(5):
        await tg.send_text(ivan, str(n))
    assert len(await bot.get_updates(limit=2)) == 2
    assert len(await bot.get_updates(limit=0)) == 1
    assert len(await bot.get_updates(limit=500)) == 5


async def test_allowed_updates_filters_updates_created_after_it(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "Task", reply_markup=keyboard("a"))
    assert await bot.get_updates(allowed_updates=["callback_query"]) == []
    await tg.send_text(ivan, "not wanted")
    await tg.press_button(ivan, ivan, sent.message_id, "a")
    (update,) = await bot.get_updates()  # the choice persists
    assert update.callback_query is not None


async def test_blocking_and_unblocking_send_my_chat_member(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.block_bot(ivan)
    tg.unblock_bot(ivan)
    blocked, unblocked = await bot.get_updates()
    assert blocked.my_chat_member is not None
    assert unblocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    assert unblocked.my_chat_member.new_chat_member.status == "member"


async def test_get_updates_conflicts_while_a_webhook_is_set(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/tg")
    error = await api_error(TelegramConflictError, bot.get_updates())
    assert error.message == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first"
    )
    await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_a_second_poll_ends_the_waiting_one_with_a_conflict(
    tg: TelegramEmulator, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await eventually(lambda: tg.long_poll_waiting)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    error = await asyncio.wait_for(api_error(TelegramConflictError, first), timeout=5)
    assert error.message == OTHER_POLL
    assert await second == []


async def test_set_webhook_ends_a_waiting_poll(tg: TelegramEmulator, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await eventually(lambda: tg.long_poll_waiting)
    await bot.set_webhook("http://127.0.0.1:9/tg")
    error = await asyncio.wait_for(api_error(TelegramConflictError, poll), timeout=5)
    assert error.message == "Conflict: terminated by setWebhook request"


async def test_a_real_dispatcher_polls_answers_and_edits(tg: TelegramEmulator, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Welcome, <b>{command.args}</b>", reply_markup=keyboard("t:done:7"))

    @router.callback_query(F.data == "t:done:7")
    async def done(query: CallbackQuery) -> None:
        await query.answer("Completed")
        assert isinstance(query.message, Message)
        await query.message.edit_text("✔ Completed")

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    try:
        user = tg.add_user(first_name="Ivan", username="ivan", language_code="ru")
        await tg.send_command(user, "start", "invite42")
        welcome = await tg.wait_for_message(user, timeout_s=5)
        assert (welcome.text, welcome.html) == ("Welcome, invite42", "Welcome, <b>invite42</b>")
        await tg.press_button(user, user, welcome.message_id, "t:done:7")
        edited = await tg.wait_for_message(user, lambda m: m.edit_date is not None, timeout_s=5)
        assert edited.text == "✔ Completed"
        assert edited.reply_markup is None
        assert [a.text for a in tg.callback_answers if a.accepted] == ["Completed"]
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, timeout=5)


@pytest.mark.parametrize("poll_s", [0, 1])
async def test_an_update_waiting_is_returned_at_once(
    tg: TelegramEmulator, bot: Bot, ivan: int, poll_s: int
) -> None:
    await tg.send_text(ivan, "queued")
    started = time.monotonic()
    (update,) = await bot.get_updates(timeout=poll_s)
    assert time.monotonic() - started < 0.5
    assert update.message is not None
    assert update.message.text == "queued"
