"""Inline keyboards: callback_data in bytes, one kind per button, URL schemes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import FakeClock, api_error, keyboard


def _markup(**button: Any) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Go", **button)]])


async def test_callback_data_may_be_64_bytes_of_cyrillic_not_65(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    fits = "Ж" * 32  # 32 characters, 64 bytes in UTF-8
    sent = await bot.send_message(ivan, "ok", reply_markup=keyboard(fits))
    assert tg.message(ivan, sent.message_id).callback_data == (fits,)
    clock.advance(1)
    too_long = "Ж" * 32 + "x"  # 33 characters, 65 bytes
    error = await api_error(
        TelegramBadRequest, bot.send_message(ivan, "no", reply_markup=keyboard(too_long))
    )
    assert error.message == "Bad Request: BUTTON_DATA_INVALID"


async def test_a_button_needs_exactly_one_kind(bot: Bot, ivan: int, clock: FakeClock) -> None:
    both = _markup(callback_data="t:done:7", url="https://example.com")
    error = await api_error(TelegramBadRequest, bot.send_message(ivan, "x", reply_markup=both))
    assert error.message.startswith(
        "Bad Request: can't parse inline keyboard button: exactly one of the optional fields"
    )
    clock.advance(1)
    neither = _markup()
    error = await api_error(TelegramBadRequest, bot.send_message(ivan, "x", reply_markup=neither))
    assert error.message == (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
        "inline keyboard"
    )


@pytest.mark.parametrize(
    "url",
    ["https://demo.amocrm.ru/leads/detail/7", "http://x.ru", "tg://resolve?domain=amobridge_bot"],
)
async def test_http_https_and_tg_links_are_accepted(bot: Bot, ivan: int, url: str) -> None:
    sent = await bot.send_message(ivan, "open", reply_markup=_markup(url=url))
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].url == url


@pytest.mark.parametrize("url", ["ftp://files.example/x", "javascript:alert(1)", "demo.amocrm.ru"])
async def test_other_link_schemes_are_refused(bot: Bot, ivan: int, url: str) -> None:
    error = await api_error(
        TelegramBadRequest, bot.send_message(ivan, "open", reply_markup=_markup(url=url))
    )
    assert error.message.startswith(f"Bad Request: inline keyboard button URL '{url}' is invalid")


async def test_a_keyboard_that_is_not_an_array_of_arrays_is_refused(
    tg: TelegramEmulator, base_url: str, ivan: int
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base_url}/bot{tg.token}/sendMessage",
            json={"chat_id": ivan, "text": "x", "reply_markup": {"inline_keyboard": [{"a": 1}]}},
        ) as response,
    ):
        body = await response.json()
    assert response.status == 400
    assert body["description"] == (
        'Bad Request: Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array '
        "of Arrays"
    )


async def test_the_keyboard_comes_back_as_sent(bot: Bot, ivan: int) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="✔ Complete", callback_data="t:done:7")],
            [
                InlineKeyboardButton(text="15m", callback_data="t:snz:7:15"),
                InlineKeyboardButton(text="Open", url="https://demo.amocrm.ru/tasks/7"),
            ],
        ]
    )
    sent = await bot.send_message(ivan, "Task", reply_markup=markup)
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == markup.model_dump()
