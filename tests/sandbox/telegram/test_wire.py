"""Routing, request encodings and the envelope, through aiogram and on the raw wire."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNotFound, TelegramUnauthorizedError
from aiogram.methods import TelegramMethod

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import TOKEN, FakeClock, make_bot


async def _raw(
    base_url: str, path: str, method: str = "POST", **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{base_url}{path}", **kwargs) as response,
    ):
        return response.status, await response.json()


async def test_it_answers_get_me_with_the_bot_user(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "amobridge_bot")


async def test_it_refuses_an_unknown_token_with_401(base_url: str) -> None:
    stranger = make_bot(base_url, token="999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_it_answers_an_unknown_method_with_404(bot: Bot) -> None:
    class SendPigeon(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendPigeon"

    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(SendPigeon())


async def test_method_names_ignore_case_and_get_works(base_url: str) -> None:
    status, body = await _raw(base_url, f"/bot{TOKEN}/GETME", method="GET")
    assert status == 200
    assert body["result"]["username"] == "amobridge_bot"


async def test_every_error_has_the_http_status_of_its_error_code(base_url: str) -> None:
    cases = [
        (f"/bot{TOKEN}/sendMessage", {"chat_id": "42", "text": "x"}, 400),
        ("/bot1:nope/getMe", {}, 401),
        (f"/bot{TOKEN}/nothing", {}, 404),
    ]
    for path, form, expected in cases:
        status, body = await _raw(base_url, path, data=form)
        assert status == body["error_code"] == expected
        assert body["ok"] is False


async def test_query_json_form_and_multipart_bodies_read_alike(
    tg: TelegramEmulator, base_url: str, ivan: int, clock: FakeClock
) -> None:
    markup = {"inline_keyboard": [[{"text": "Done", "callback_data": "t:done:7"}]]}
    path = f"/bot{TOKEN}/sendMessage"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ivan))
    form.add_field("text", "<b>multipart</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("reply_markup", json.dumps(markup))
    form.add_field("file", b"ignored", filename="x.bin")  # forces multipart/form-data
    sends: list[dict[str, Any]] = [
        {
            "params": {
                "chat_id": str(ivan),
                "text": "<b>query</b>",
                "parse_mode": "HTML",
                "reply_markup": json.dumps(markup),
            }
        },
        {
            "json": {
                "chat_id": ivan,
                "text": "<b>json</b>",
                "parse_mode": "HTML",
                "reply_markup": markup,
            }
        },
        {
            "data": {
                "chat_id": str(ivan),
                "text": "<b>form</b>",
                "parse_mode": "HTML",
                "reply_markup": json.dumps(markup),
            }
        },
        {"data": form},
    ]
    for kwargs in sends:
        clock.advance(1)  # paced within the per-chat limit
        status, body = await _raw(base_url, path, **kwargs)
        assert status == 200, body
        assert body["result"]["reply_markup"] == markup
        assert body["result"]["entities"][0]["type"] == "bold"
    assert [m.text for m in tg.transcript(ivan)] == ["query", "json", "form", "multipart"]


async def test_body_parameters_override_the_query_string(
    tg: TelegramEmulator, base_url: str, ivan: int
) -> None:
    status, _ = await _raw(
        base_url,
        f"/bot{TOKEN}/sendMessage",
        params={"chat_id": str(ivan), "text": "from query"},
        data={"text": "from body"},
    )
    assert status == 200
    assert tg.transcript(ivan)[-1].text == "from body"


async def test_a_sent_message_is_schema_valid_for_aiogram(bot: Bot, ivan: int) -> None:
    sent = await bot.send_message(ivan, "hello")
    assert sent.date.timestamp() > 0  # a zero date would read as an inaccessible message
    assert sent.chat.id == ivan
    assert sent.chat.type == "private"
    assert sent.chat.first_name == "Ivan"
    assert sent.from_user is not None
    assert sent.from_user.is_bot


async def test_the_request_log_records_method_chat_and_status(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    await bot.send_message(ivan, "hi")
    last = tg.request_log[-1]
    assert (last.method, last.chat_id, last.status) == ("sendMessage", ivan, 200)
