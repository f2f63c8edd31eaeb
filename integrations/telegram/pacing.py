"""Every message-sending Bot API call waits for its chat's turn and the bot's.

A session middleware, so that replies to commands, menus edited in place and outbox deliveries
all draw on one budget per chat (the store's shared timelines, across replicas) and Telegram's
flood control is never provoked.

When it is anyway (another bot token's traffic, Telegram's own judgement), the 429's Retry-After
holds the chat's timeline for every sender. A reply to a person is then sent again after it; an
outbox delivery is not (``bulk()`` marks those): the outbox puts it back and its sender moves on to
other chats. Replies go first: a delivery to a chat waits while a reply to that chat is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType

from bot.delivery import ChannelLimits, hold_chat, wait_turn
from bot.store import Store

log = logging.getLogger(__name__)

_PACED = (SendMessage, EditMessageText, EditMessageReplyMarkup, SendPhoto, SendDocument)
# A reply is tried this many times under flood control; a wait longer than this is not worth
# keeping a person's answer for (it is logged and dropped).
REPLY_ATTEMPTS = 3
MAX_REPLY_WAIT_S = 60.0

_R = TypeVar("_R")
_BULK: ContextVar[bool] = ContextVar("telegram_bulk", default=False)


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """Calls made inside are outbox deliveries: a 429 is handed back to the outbox."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


class Pacing(BaseRequestMiddleware):
    def __init__(self, store: Store, limits: ChannelLimits, channel: str = "telegram") -> None:
        self._store = store
        self._limits = limits
        self._channel = channel
        self._replying: dict[str, int] = {}  # chat → replies to it waiting or under way
        self._replied = asyncio.Condition()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat: Any = getattr(method, "chat_id", None) if isinstance(method, _PACED) else None
        if chat is None:
            return await make_request(bot, method)
        chat_id = str(chat)

        async def send() -> Response[TelegramType]:
            is_group = chat_id.startswith(("-", "@"))  # groups and channels
            await wait_turn(self._store, self._channel, self._limits, chat_id, is_group)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                await hold_chat(
                    self._store, self._channel, self._limits, chat_id, float(exc.retry_after)
                )
                raise

        if _BULK.get():
            async with self._replied:
                await self._replied.wait_for(lambda: not self._replying.get(chat_id))
            return await send()
        self._replying[chat_id] = self._replying.get(chat_id, 0) + 1
        try:
            return await _reply(send, chat_id)
        finally:
            left = self._replying.pop(chat_id) - 1
            if left:
                self._replying[chat_id] = left
            async with self._replied:
                self._replied.notify_all()


async def _reply(send: Callable[[], Awaitable[_R]], chat_id: str) -> _R:
    """A reply to a person: sent again after each Retry-After, a few times."""
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            return await send()
        except TelegramRetryAfter as exc:
            if attempt == REPLY_ATTEMPTS or exc.retry_after > MAX_REPLY_WAIT_S:
                raise
            log.info("telegram: reply to %s held %ss by flood control", chat_id, exc.retry_after)
    raise AssertionError("unreachable: the last attempt returns or raises")
