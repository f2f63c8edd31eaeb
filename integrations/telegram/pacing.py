"""Every message-sending Bot API call waits for its chat's turn and the bot's.

A session middleware, so that replies to commands, menus edited in place and outbox deliveries
all draw on one budget per chat (the store's shared timelines, across replicas) and Telegram's
flood control is never provoked.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType

from bot.delivery import ChannelLimits, wait_turn
from bot.store import Store

_PACED = (SendMessage, EditMessageText, EditMessageReplyMarkup, SendPhoto, SendDocument)


class Pacing(BaseRequestMiddleware):
    def __init__(self, store: Store, limits: ChannelLimits, channel: str = "telegram") -> None:
        self._store = store
        self._limits = limits
        self._channel = channel

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, _PACED):
            chat: Any = getattr(method, "chat_id", None)
            if chat is not None:
                is_group = str(chat).startswith(("-", "@"))  # groups and channels
                await wait_turn(self._store, self._channel, self._limits, str(chat), is_group)
        return await make_request(bot, method)
