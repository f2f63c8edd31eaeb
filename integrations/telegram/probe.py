"""``amobridge check`` for Telegram: does the token work, and which bot is it?"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError


class TelegramProbeError(Exception):
    """Why the bot could not be reached; safe to show (no token in it)."""


async def bot_username(token: str, api_base: str) -> str:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
    try:
        me = await Bot(token, session=session).get_me()
    except TelegramUnauthorizedError:
        raise TelegramProbeError("token rejected (401): check it with @BotFather") from None
    except TelegramNetworkError:
        raise TelegramProbeError(f"cannot reach {api_base}") from None
    finally:
        await session.close()
    return me.username or str(me.id)
