from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.store.sqlite import SqliteStore
from sandbox.telegram import TelegramEmulator
from tests.integrations.telegram.fakes import FakeClock


@pytest.fixture
def tg() -> TelegramEmulator:
    return TelegramEmulator(token="123456:TEST-TOKEN", bot_username="amobridge_bot")


@pytest.fixture
async def base_url(tg: TelegramEmulator) -> AsyncIterator[str]:
    async with tg.serve(host="127.0.0.1", port=0) as url:
        yield url


@pytest.fixture
async def bot(tg: TelegramEmulator, base_url: str) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(tg.token, session=session)
    yield bot
    await session.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await SqliteStore.open(str(tmp_path / "tg.db"))
    yield s
    await s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
