"""Test helpers: a settable clock, an aiogram Bot for a base URL, bounded condition waits."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

TOKEN = "123456:TEST-TOKEN"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_bot(base_url: str, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of callback buttons, labelled by their data."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]]
    )


async def sent_then_edited(
    bot: Bot,
    clock: FakeClock,
    chat_id: int,
    text: str,
    buttons: str,
    *,
    new_text: str | None,
    new_buttons: str,
) -> int:
    """A message sent with one button and, a second later, edited: its text to ``new_text``
    (None: only its keyboard is edited) and its button to ``new_buttons``; the message's id."""
    sent = await bot.send_message(chat_id, text, reply_markup=keyboard(buttons))
    clock.advance(1)
    markup, message_id = keyboard(new_buttons), sent.message_id
    if new_text is None:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                            reply_markup=markup)  # fmt: skip
    else:
        await bot.edit_message_text(new_text, chat_id=chat_id, message_id=message_id,
                                    reply_markup=markup)  # fmt: skip
    return message_id


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until `condition()` holds, failing after `timeout_s` (a bounded wait, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def api_error(kind: type[TelegramAPIError], call: Awaitable[object]) -> TelegramAPIError:
    """The exception `call` raises, which must be of `kind` (its `.message` is Telegram's
    description, exactly)."""
    with pytest.raises(kind) as caught:
        await call
    return caught.value
