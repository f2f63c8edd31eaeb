"""Telegram in the service: the aiogram bot and dispatcher over amobridge's handlers, its outbox
sender, and how it starts (command menu, webhook or polling)."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand

from bot.app.errors import StartupError
from bot.app.services import Services
from bot.app.settings import Settings
from bot.chat import MENU, Dialogs
from bot.core import LANGUAGES, Catalogue, Clock, Metrics
from bot.delivery import OutboxSender
from bot.store import Store
from handlers.telegram import TelegramDeps, make_router
from integrations.telegram import TELEGRAM_LIMITS, TelegramNotifier
from integrations.telegram.pacing import Pacing

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class TelegramApp:
    bot: Bot
    dispatcher: Dispatcher
    sender: OutboxSender
    webhook_url: str | None  # None: long polling


def build_telegram(
    settings: Settings, store: Store, s: Services, clock: Clock, metrics: Metrics | None = None
) -> TelegramApp:
    cfg = settings.telegram
    assert cfg.token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(str(cfg.api_base).rstrip("/")))
    session.middleware(Pacing(store, TELEGRAM_LIMITS))
    bot = Bot(cfg.token.get_secret_value(), session=session)
    dispatcher = Dispatcher()
    deps = TelegramDeps(
        conversation=s.conversation, admin=s.admin, dialogs=Dialogs(store, "telegram"),
        linking=s.linking,
        directory=s.directory, cards=s.cards, store=store, t=s.t, subscriptions=s.subscriptions,
    )  # fmt: skip
    dispatcher.include_router(make_router(deps))
    sender = OutboxSender(
        "telegram", TelegramNotifier(bot), None, store=store, outbox=s.outbox,
        clock=clock, on_permanent_failure=s.on_permanent_failure, activity=s.activity,
        on_outcome=metrics.observe_send if metrics is not None else None,
    )  # fmt: skip
    webhook_url = None
    if cfg.webhook_secret is not None:
        assert settings.public_url is not None  # Settings requires it in webhook mode
        webhook_url = str(settings.public_url).rstrip("/") + TELEGRAM_WEBHOOK_PATH
    return TelegramApp(bot, dispatcher, sender, webhook_url)


async def start_telegram(
    app: TelegramApp, settings: Settings, t: Catalogue, exit_stack: AsyncExitStack
) -> None:
    """Check the token, publish the command menu, then take updates by webhook or polling."""
    try:
        await app.bot.get_me()
    except TelegramAPIError as exc:
        raise StartupError(f"Telegram refused the bot token ({type(exc).__name__})") from None
    for lang in LANGUAGES:
        commands = [BotCommand(command=name, description=t(lang, f"cmd_{name}")) for name in MENU]
        await app.bot.set_my_commands(commands, language_code=lang)
    await app.bot.set_my_commands(
        [BotCommand(command=name, description=t("en", f"cmd_{name}")) for name in MENU]
    )
    if app.webhook_url is not None:
        secret = settings.telegram.webhook_secret
        assert secret is not None
        await app.bot.set_webhook(app.webhook_url, secret_token=secret.get_secret_value())
        return
    # Polling: a webhook left from webhook mode would make getUpdates fail with 409.
    await app.bot.delete_webhook()
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=10
        ),
        name="telegram-polling",
    )

    async def stop_polling() -> None:
        with contextlib.suppress(RuntimeError):  # it may not have started yet
            await app.dispatcher.stop_polling()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling

    exit_stack.push_async_callback(stop_polling)
