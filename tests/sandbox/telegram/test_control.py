"""The HTTP control API: play users over HTTP, read transcripts and the request log."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
from aiogram import Bot

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import keyboard


async def _call(
    base_url: str, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{base_url}/_control{path}", json=body) as response,
    ):
        return response.status, await response.json()


async def _press(base_url: str, user: int, message_id: int, data: str) -> tuple[int, Any]:
    """The user presses the button carrying ``data`` under the bot's message, over HTTP."""
    body = {"chat_id": user, "message_id": message_id, "callback_data": data}
    return await _call(base_url, "POST", f"/users/{user}/press", body)


async def test_a_user_created_over_http_talks_to_the_bot(
    tg: TelegramEmulator, base_url: str, bot: Bot
) -> None:
    status, created = await _call(
        base_url, "POST", "/users", {"first_name": "Anna", "username": "anna"}
    )
    assert status == 201
    user = created["id"]
    status, sent = await _call(base_url, "POST", f"/users/{user}/messages", {"text": "/start x"})
    assert status == 200
    assert sent["message_id"] == 1
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "/start x"
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"

    reply = await bot.send_message(user, "Pick", reply_markup=keyboard("t:done:7"))
    status, pressed = await _press(base_url, user, reply.message_id, "t:done:7")
    assert status == 200
    assert pressed["callback_query_id"]
    status, transcript = await _call(base_url, "GET", f"/chats/{user}/transcript")
    assert status == 200
    assert [(m["from_bot"], m["text"]) for m in transcript] == [
        (False, "/start x"),
        (True, "Pick"),
    ]
    assert transcript[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "t:done:7"


async def test_groups_blocking_and_the_request_log(
    tg: TelegramEmulator, base_url: str, bot: Bot, ivan: int
) -> None:
    status, group = await _call(base_url, "POST", "/groups", {"title": "Sales", "members": [ivan]})
    assert status == 201
    assert group["id"] < 0
    status, _ = await _call(base_url, "POST", f"/users/{ivan}/block")
    assert status == 200
    await bot.send_message(group["id"], "ok")
    status, log = await _call(base_url, "GET", "/requests")
    assert status == 200
    assert log[-1]["method"] == "sendMessage"
    assert log[-1]["status"] == 200


async def test_impossible_actions_are_refused_with_400_and_404(
    base_url: str, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "Pick", reply_markup=keyboard("a"))
    status, body = await _press(base_url, ivan, sent.message_id, "forged")
    assert status == 400
    assert "no button" in body["error"]
    status, body = await _call(base_url, "POST", "/users/42/messages", {"text": "hi"})
    assert status == 404
    status, body = await _call(base_url, "POST", "/users", {"username": "no-first-name"})
    assert status == 400


async def test_faults_can_be_injected_over_http(tg: TelegramEmulator, base_url: str) -> None:
    status, body = await _call(base_url, "POST", "/faults", {"kind": "502", "count": 2})
    assert (status, body) == (200, {"pending": 2})
    assert tg.faults.pending == 2


async def test_a_user_sends_a_file_over_http(
    tg: TelegramEmulator, base_url: str, bot: Bot
) -> None:
    user = tg.add_user(first_name="Anna", started=True)
    content = base64.b64encode(b"version: 1\n").decode()
    status, sent = await _call(base_url, "POST", f"/users/{user}/documents",
                               {"file_name": "set-up.yaml", "content": content,
                                "caption": "/config import"})  # fmt: skip
    assert status == 200
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.message_id == sent["message_id"]
    assert update.message.document is not None
    downloaded = await bot.download(update.message.document)
    assert downloaded is not None
    assert downloaded.read() == b"version: 1\n"
    status, _ = await _call(base_url, "POST", f"/users/{user}/documents",
                            {"file_name": "x", "content": "not base64!"})  # fmt: skip
    assert status == 400
