"""A served emulator on a settable clock, and a real aiogram Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import TOKEN, FakeClock, make_bot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tg(clock: FakeClock) -> TelegramEmulator:
    return TelegramEmulator(token=TOKEN, bot_username="amobridge_bot", clock=clock)


@pytest.fixture
async def base_url(tg: TelegramEmulator) -> AsyncIterator[str]:
    async with tg.serve(host="127.0.0.1", port=0) as url:
        yield url


@pytest.fixture
async def bot(base_url: str) -> AsyncIterator[Bot]:
    client = make_bot(base_url)
    try:
        yield client
    finally:
        await client.session.close()


@pytest.fixture
def ivan(tg: TelegramEmulator) -> int:
    """A user who has started the bot (no update queued for it)."""
    return tg.add_user(first_name="Ivan", username="ivan", language_code="ru", started=True)
