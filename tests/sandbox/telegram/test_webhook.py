"""Webhook mode: delivery to aiogram's own request handler, the secret header, retries in
order, webhook replies, and the setWebhook checks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from sandbox.telegram import TelegramEmulator
from sandbox.telegram.webhook import SECRET_HEADER
from tests.sandbox.telegram.helpers import api_error, eventually

FAST_RETRIES = (0.05, 0.05, 0.05, 0.05, 0.05)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def receiver(handler: Handler) -> AsyncIterator[str]:
    """A loopback HTTP server for `handler` at /tg; yields its URL."""
    app = web.Application()
    app.router.add_post("/tg", handler)
    async with serving(app) as base:
        yield f"{base}/tg"


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def greeting_dispatcher(*, reply_in_webhook: bool = False) -> Dispatcher:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> SendMessage | None:
        if reply_in_webhook:
            return message.answer("pong <i>in the reply</i>")
        await message.answer("Welcome")
        return None

    dp = Dispatcher()
    dp.include_router(router)
    return dp


@asynccontextmanager
async def aiogram_webhook(
    bot: Bot, secret: str, *, reply_in_webhook: bool = False
) -> AsyncIterator[str]:
    dp = greeting_dispatcher(reply_in_webhook=reply_in_webhook)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=not reply_in_webhook
    ).register(app, path="/tg")
    async with serving(app) as base:
        yield f"{base}/tg"


async def test_updates_reach_aiogram_with_the_secret_header(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    async with aiogram_webhook(bot, secret="s3cr3t-Token_1") as url:
        assert await bot.set_webhook(url, secret_token="s3cr3t-Token_1") is True
        await tg.send_command(ivan, "start")
        reply = await tg.wait_for_message(ivan, timeout_s=5)
        assert reply.text == "Welcome"
        assert [(d.attempt, d.status) for d in tg.webhook_deliveries] == [(1, 200)]
        info = tg.webhook
        assert info is not None
        assert (info.url, info.pending_update_count) == (url, 0)


async def test_a_wrong_secret_gets_401_from_aiogram_and_is_retried(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.webhook_retry_delays_s = (0.05,) * 100
    async with aiogram_webhook(bot, secret="right") as url:
        await bot.set_webhook(url, secret_token="wrong")
        await tg.send_command(ivan, "start")
        await eventually(lambda: len(tg.webhook_deliveries) >= 3)
        assert {d.status for d in tg.webhook_deliveries} == {401}
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"
        assert info.pending_update_count == 1
        await bot.set_webhook(url, secret_token="right")
        reply = await tg.wait_for_message(ivan, timeout_s=5)
        assert reply.text == "Welcome"
        assert tg.webhook_deliveries[-1].status == 200


async def test_failed_deliveries_are_retried_in_order(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.webhook_retry_delays_s = FAST_RETRIES
    seen: list[tuple[int, str | None]] = []

    async def flaky(request: web.Request) -> web.StreamResponse:
        update = json.loads(await request.text())
        seen.append((update["update_id"], request.headers.get(SECRET_HEADER)))
        return web.Response(status=500 if len(seen) <= 2 else 200)

    async with receiver(flaky) as url:
        await bot.set_webhook(url, secret_token="abc")
        await tg.send_text(ivan, "first")
        await tg.send_text(ivan, "second")
        await eventually(lambda: len(seen) == 4)
    first, second = seen[0][0], seen[3][0]
    assert [update_id for update_id, _ in seen] == [first, first, first, second]
    assert {secret for _, secret in seen} == {"abc"}
    assert [d.status for d in tg.webhook_deliveries] == [500, 500, 200, 200]


async def test_an_update_is_dropped_when_the_retries_run_out(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.webhook_retry_delays_s = (0.01, 0.01)
    await bot.set_webhook("http://127.0.0.1:9/nothing-listens-here")
    await tg.send_text(ivan, "lost")
    await eventually(lambda: len(tg.webhook_deliveries) == 3)
    await eventually(lambda: tg.pending_updates == [])
    assert all(d.status is None and d.error for d in tg.webhook_deliveries)


async def test_a_method_in_the_webhook_reply_is_carried_out(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    async with aiogram_webhook(bot, secret="s", reply_in_webhook=True) as url:
        await bot.set_webhook(url, secret_token="s")
        await tg.send_command(ivan, "start")
        reply = await tg.wait_for_message(ivan, timeout_s=5)
    assert (reply.text, reply.html) == ("pong in the reply", "pong <i>in the reply</i>")
    assert tg.request_log[-1].method == "sendMessage"


async def test_delete_webhook_hands_pending_updates_back_to_get_updates(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.webhook_retry_delays_s = (60.0,)
    await bot.set_webhook("http://127.0.0.1:9/down")
    await tg.send_text(ivan, "kept")
    await eventually(lambda: len(tg.webhook_deliveries) == 1)
    assert await bot.delete_webhook() is True
    assert tg.webhook is None
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "kept"


async def test_drop_pending_updates_forgets_them(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    await tg.send_text(ivan, "old")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == []


async def test_set_webhook_checks_url_and_secret(bot: Bot) -> None:
    hook = "https://example.com/hook"
    cases = [
        ("ftp://example.com/hook", None, "Bad Request: invalid webhook URL specified"),
        (hook, "x" * 257, "Bad Request: secret token is too long"),
        (hook, "not allowed!", "Bad Request: secret token contains unallowed characters"),
    ]
    for url, secret, message in cases:
        error = await api_error(TelegramBadRequest, bot.set_webhook(url, secret_token=secret))
        assert error.message == message
    assert await bot.set_webhook(hook, secret_token="x" * 256) is True


async def test_webhook_info_without_and_with_a_webhook(tg: TelegramEmulator, bot: Bot) -> None:
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)
    await bot.set_webhook("http://127.0.0.1:9/hook", max_connections=5)
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections) == ("http://127.0.0.1:9/hook", 5)
    assert tg.webhook is not None
    assert tg.webhook.secret_token is None
