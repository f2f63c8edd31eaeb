"""TelegramNotifier with a real aiogram Bot against the emulator: sends, edits, and how each
Bot API answer becomes a DeliveryError (permanent, retry_after, or transient)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramMigrateToChat
from aiogram.methods import SendMessage

from bot.core.views import Button, TaskCard, TextMessage
from bot.delivery.outbox import DeliveryError
from integrations.telegram import TelegramNotifier, delivery_error, render_card
from sandbox.telegram import TelegramEmulator

CARD = TaskCard(
    task_id=7, heading="⏰ Due in 15 min", type_name="Call", text="Call <ACME> & co",
    due_text="today 15:00", rows=((Button(label="✔ Complete", payload="t:c:7"),),),
)  # fmt: skip


@pytest.fixture
def notifier(bot: Bot) -> TelegramNotifier:
    return TelegramNotifier(bot)


@pytest.fixture
def user(tg: TelegramEmulator) -> int:
    return tg.add_user("Ann", username="ann", language_code="en", started=True)


async def failure(notifier: TelegramNotifier, chat_id: int) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await notifier.send(str(chat_id), CARD)
    return caught.value


async def test_it_sends_html_with_the_keyboard(
    tg: TelegramEmulator, notifier: TelegramNotifier, user: int
) -> None:
    message_id = await notifier.send(str(user), CARD)

    [shown] = tg.transcript(user)
    assert str(shown.message_id) == message_id
    assert shown.html == render_card(CARD).html
    assert shown.text == "⏰ Due in 15 min\nCall: Call <ACME> & co\n🕒 today 15:00"
    assert shown.callback_data == ("t:c:7",)


async def test_it_edits_and_takes_not_modified_as_done(
    tg: TelegramEmulator, notifier: TelegramNotifier, user: int
) -> None:
    message_id = await notifier.send(str(user), CARD)
    done = CARD.model_copy(update={"heading": "✔ Completed", "rows": ()})

    await notifier.edit(str(user), message_id, done)
    await notifier.edit(str(user), message_id, done)  # a double tap: "message is not modified"

    [shown] = tg.transcript(user)
    assert shown.text.startswith("✔ Completed\n")
    assert shown.edits == ("⏰ Due in 15 min\nCall: Call <ACME> & co\n🕒 today 15:00",)
    assert shown.reply_markup is None
    assert [r.status for r in tg.request_log if r.method == "editMessageText"] == [200, 400]


async def test_it_fails_for_good_on_a_message_to_edit_that_is_gone(
    notifier: TelegramNotifier, user: int
) -> None:
    with pytest.raises(DeliveryError) as caught:
        await notifier.edit(str(user), "999", TextMessage(text="x"))

    assert caught.value.permanent
    assert not caught.value.gone  # the message is gone, not the person: the link stays
    assert "message to edit not found" in caught.value.reason


# Who cannot be reached, made from the ``user`` fixture (who has started the bot): their chat.
def _blocked_the_bot(tg: TelegramEmulator, user: int) -> int:
    tg.block_bot(user)
    return user


def _was_deactivated(tg: TelegramEmulator, user: int) -> int:
    tg.deactivate_user(user)
    return user


def _never_started_the_bot(tg: TelegramEmulator, user: int) -> int:
    return tg.add_user("Bob", started=False)


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        (_blocked_the_bot, "bot was blocked by the user"),
        (_was_deactivated, "user is deactivated"),
        (_never_started_the_bot, "chat not found"),
    ],
)
async def test_it_fails_for_good_when_the_person_cannot_be_reached(
    tg: TelegramEmulator,
    notifier: TelegramNotifier,
    user: int,
    person: Callable[[TelegramEmulator, int], int],
    reason: str,
) -> None:
    error = await failure(notifier, person(tg, user))

    assert error.gone
    assert reason in error.reason


async def test_it_passes_retry_after_on(
    tg: TelegramEmulator, notifier: TelegramNotifier, user: int
) -> None:
    tg.faults.add("429", 1, method="sendMessage", retry_after=3)

    error = await failure(notifier, user)

    assert (error.permanent, error.retry_after) == (False, 3.0)


async def test_it_takes_a_server_error_as_transient(
    tg: TelegramEmulator, notifier: TelegramNotifier, user: int
) -> None:
    tg.faults.add("502", 1, method="sendMessage")

    error = await failure(notifier, user)

    assert (error.permanent, error.retry_after) == (False, None)


async def test_it_takes_a_timeout_as_transient(tg: TelegramEmulator, base_url: str) -> None:
    user = tg.add_user("Ann", started=True)
    tg.faults.add("timeout", 1, method="sendMessage", delay_s=1.0)
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url), timeout=0.2)
    try:
        error = await failure(TelegramNotifier(Bot(tg.token, session=session)), user)
    finally:
        await session.close()

    assert (error.permanent, error.retry_after) == (False, None)
    assert "timeout" in error.reason.lower()


async def test_it_takes_a_refused_token_as_transient(
    tg: TelegramEmulator, base_url: str, user: int
) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    try:
        error = await failure(TelegramNotifier(Bot("999:WRONG", session=session)), user)
    finally:
        await session.close()

    assert (error.permanent, error.retry_after) == (False, None)  # not the recipient's fault
    assert "Unauthorized" in error.reason


def test_it_retries_a_migrated_group_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    exc = TelegramMigrateToChat(
        method=SendMessage(chat_id=-5, text="x"), message="migrated", migrate_to_chat_id=-1005
    )

    with caplog.at_level(logging.WARNING, logger="integrations.telegram.notifier"):
        error = delivery_error(exc, "-5")

    assert (error.permanent, error.retry_after) == (False, None)
    assert "-1005" in caplog.text


async def test_it_fails_for_good_on_a_card_telegram_would_refuse(
    tg: TelegramEmulator, notifier: TelegramNotifier, user: int
) -> None:
    bad = TextMessage(text="x", rows=((Button(label="x", payload="p" * 65),),))

    with pytest.raises(DeliveryError) as caught:
        await notifier.send(str(user), bad)

    assert caught.value.permanent
    assert tg.request_log == []  # refused before it went out
