"""Telegram's HTTP edge: the webhook, with the secret and the body checked before aiogram runs.

The updates it accepts are fed to the dispatcher whose router handlers.telegram builds.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from handlers.body import BodyTooLarge, read_limited

log = logging.getLogger(__name__)


MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few kilobytes; files come by reference


class TelegramWebhook(SimpleRequestHandler):
    """aiogram's webhook handler with the edge made strict: the secret header is compared as
    bytes (aiogram's str compare raises on a non-ASCII header), the body is read under a limit,
    and an update that is not JSON or not an Update is answered 400 before anything runs (aiogram
    would answer 500, or 200 and fail later in the background)."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, *, secret_token: str) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, secret_token=secret_token)
        self._feeding: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        header = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self._secret_matches(header):
            return web.Response(body="Unauthorized", status=401)
        try:
            raw = await read_limited(request, MAX_UPDATE_BYTES)
        except BodyTooLarge:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            update = Update.model_validate_json(raw, context={"bot": self.bot})
        except ValidationError:
            log.warning("telegram: refused an update that is not one")
            return web.json_response({"error": "malformed update"}, status=400)
        task = asyncio.create_task(self._feed(update))
        self._feeding.add(task)
        task.add_done_callback(self._feeding.discard)
        return web.json_response({})

    def _secret_matches(self, header: str) -> bool:
        if not self.secret_token:
            return True
        given = header.encode("utf-8", "surrogateescape")  # aiohttp's decoding, undone
        return hmac.compare_digest(given, self.secret_token.encode())

    async def _feed(self, update: Update) -> None:
        try:
            result = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=self.bot, result=result)
        except Exception:
            log.exception("telegram: update %s failed", update.update_id)
