"""Injected faults: server errors, flood waits and dropped connections, on cue."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import api_error


async def test_500_and_502_raise_server_errors_then_calls_work_again(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.faults.add("500")
    tg.faults.add("502")
    first = await api_error(TelegramServerError, bot.send_message(ivan, "a"))
    second = await api_error(TelegramServerError, bot.send_message(ivan, "b"))
    assert (first.message, second.message) == ("Internal Server Error", "Bad Gateway")
    assert (await bot.send_message(ivan, "c")).text == "c"
    assert [m.text for m in tg.transcript(ivan)] == ["c"]  # a faulted call has no effect
    assert tg.stats.faults_injected == 2


async def test_a_429_fault_carries_its_retry_after(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.faults.add("429", count=2, retry_after=7)
    for _ in range(2):
        error = await api_error(TelegramRetryAfter, bot.send_message(ivan, "x"))
        assert isinstance(error, TelegramRetryAfter)
        assert error.retry_after == 7
    assert tg.faults.pending == 0
    assert tg.stats.too_many_requests == 2
    assert tg.stats.rate_limited == 0


async def test_a_fault_for_one_method_leaves_the_others_alone(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.faults.add("500", method="editMessageText")
    sent = await bot.send_message(ivan, "x")
    await bot.get_me()
    await api_error(
        TelegramServerError, bot.edit_message_text("y", chat_id=ivan, message_id=sent.message_id)
    )


async def test_a_timeout_drops_the_connection_unanswered(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.faults.add("timeout", delay_s=0.1)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ivan, "lost")
    assert tg.transcript(ivan) == []
    assert tg.request_log[-1].status == 0


def test_unknown_fault_kinds_are_refused(tg: TelegramEmulator) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        tg.faults.add("418")
