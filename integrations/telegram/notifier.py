"""Telegram as a ``bot.delivery.Notifier``: cards sent and edited through an aiogram ``Bot``.

aiogram raises one exception type per Bot API answer; here each becomes a ``DeliveryError`` the
outbox sender understands: ``retry_after`` (flood control), permanent (the chat is gone for the
bot, or the message itself is refused) or transient (Telegram or the network hiccuped).
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, LinkPreviewOptions

from bot.core import Card, ReplyFile
from bot.delivery import ChannelLimits, DeliveryError
from integrations.telegram.pacing import bulk
from integrations.telegram.render import Rendered, render_card

log = logging.getLogger(__name__)

# Telegram allows 1 msg/s per chat, 20/min per group and about 30/s in all (Bot FAQ): the pace
# stays just under each, so the sender never provokes a 429. Groups get 3.1 s, not 60/20: at
# exactly 3 s the 21st message lands 60 s after the 1st give or take a few ms, and a late 1st
# or an early 21st is refused (measured: 1 x 429 in 23 sends at 3.0 s). A private chat takes
# two at once ("short bursts" are allowed; we keep one message of Telegram's burst spare for
# network jitter), so a card edit right after a notice to the same person does not wait 1 s.
TELEGRAM_LIMITS = ChannelLimits(per_chat_s=1.0, per_group_s=3.1, global_s=1 / 29, per_chat_burst=2)

_NOT_MODIFIED = "message is not modified"
# The chat (or topic) no longer takes the bot's messages: the chat or topic is gone, or an admin
# took the bot's right to post. Anything else refused is about this one message.
_CHAT_GONE = ("chat not found", "not enough rights", "thread not found")
CAPTION_LIMIT = 1024  # a photo's or document's caption, in characters
TOPIC_SEP = "/"  # a forum topic as a chat address: "<chat id>/<message_thread_id>"
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def delivery_error(exc: AiogramError, chat_id: str) -> DeliveryError:
    """How the outbox should treat ``exc``, raised for a call to ``chat_id``."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TelegramRetryAfter):
        return DeliveryError(reason, retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        # Blocked by the user, user deactivated, bot kicked from the group.
        return DeliveryError(reason, gone=True)
    if isinstance(exc, TelegramMigrateToChat):
        # The group became a supergroup; following it is not done yet, so retrying keeps the
        # item alive (and visible in the logs) until it is.
        log.warning("telegram: chat %s moved to %s", chat_id, exc.migrate_to_chat_id)
        return DeliveryError(reason)
    if isinstance(exc, TelegramBadRequest):
        # "chat not found", "message to edit not found", or a message Telegram refuses as
        # malformed: none improves by sending it again.
        log.warning("telegram: refused for chat %s: %s", chat_id, exc.message)
        gone = any(words in exc.message for words in _CHAT_GONE)
        return DeliveryError(reason, permanent=True, gone=gone)
    if isinstance(exc, TelegramUnauthorizedError):
        # The token, not the chat: nothing about this recipient is permanent.
        log.error("telegram: the bot token was refused: %s", exc.message)
    elif not isinstance(exc, TelegramServerError | TelegramNetworkError):
        # Another API status (404, 409) or an answer aiogram could not read: worth a retry.
        log.warning("telegram: unexpected answer for chat %s: %s", chat_id, reason)
    return DeliveryError(reason)


def topic_address(chat_id: int, thread_id: int | None) -> str:
    """Where a message typed in ``chat_id`` (in topic ``thread_id`` of a forum) is answered."""
    return f"{chat_id}{TOPIC_SEP}{thread_id}" if thread_id else str(chat_id)


def _chat(chat_id: str) -> int | str:
    # Our chats are numeric ids; an "@channel" username is passed through as Telegram takes it.
    chat = chat_id.partition(TOPIC_SEP)[0]
    return int(chat) if chat.lstrip("-").isdigit() else chat


def _thread(chat_id: str) -> int | None:
    thread = chat_id.partition(TOPIC_SEP)[2]
    return int(thread) if thread.isdigit() else None


def _render(card: Card) -> Rendered:
    try:
        return render_card(card)
    except ValueError as exc:  # a button Telegram would refuse: resending cannot fix the card
        log.error("telegram: card not renderable: %s", exc)
        raise DeliveryError(f"unrenderable card: {exc}", permanent=True) from exc


def _as_html(card: Card) -> dict[str, Any]:
    """How a card is shown, sent or edited alike: HTML text, its keyboard, no link preview.
    (A card that cannot be rendered raises ``DeliveryError``, which no ``except`` around the
    Bot API call catches.)"""
    rendered = _render(card)
    return {
        "text": rendered.html,
        "parse_mode": ParseMode.HTML,
        "link_preview_options": _NO_PREVIEW,
        "reply_markup": rendered.keyboard,
    }


class TelegramNotifier:
    """Sends and edits cards as HTML messages with inline keyboards, link previews off."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: str, card: Card, *, ref: str | None = None) -> str:
        """``ref`` is not sent: a Telegram message carries no hidden data to find it by."""
        try:
            with bulk():
                message = await self._bot.send_message(
                    chat_id=_chat(chat_id), message_thread_id=_thread(chat_id), **_as_html(card)
                )
        except AiogramError as exc:
            raise delivery_error(exc, chat_id) from exc
        return str(message.message_id)

    async def send_file(
        self, chat_id: str, caption: str, file: ReplyFile, *, ref: str | None = None
    ) -> str:
        """A photo or a document, the caption as plain text (no HTML to escape)."""
        upload = BufferedInputFile(file.content, filename=file.name)
        chat, thread = _chat(chat_id), _thread(chat_id)
        text = caption if len(caption) <= CAPTION_LIMIT else caption[: CAPTION_LIMIT - 1] + "…"
        try:
            with bulk():
                if file.photo:
                    message = await self._bot.send_photo(
                        chat, upload, message_thread_id=thread, caption=text
                    )
                else:
                    message = await self._bot.send_document(
                        chat, upload, message_thread_id=thread, caption=text
                    )
        except AiogramError as exc:
            raise delivery_error(exc, chat_id) from exc
        return str(message.message_id)

    async def find_sent(self, chat_id: str, ref: str, since: float) -> str | None:
        """Always None: the Bot API cannot read a chat's messages back (see ARCHITECTURE.md,
        "the send window")."""
        return None

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        try:
            with bulk():
                await self._bot.edit_message_text(
                    chat_id=_chat(chat_id), message_id=int(message_id), **_as_html(card)
                )
        except TelegramBadRequest as exc:
            if _NOT_MODIFIED in exc.message:
                return  # a double tap, or a second replica's edit: the message shows this card
            raise delivery_error(exc, chat_id) from exc
        except AiogramError as exc:
            raise delivery_error(exc, chat_id) from exc
