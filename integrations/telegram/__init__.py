"""Telegram delivery: cards rendered as HTML with inline keyboards, sent through aiogram."""

from integrations.telegram.notifier import (
    TELEGRAM_LIMITS,
    TelegramNotifier,
    delivery_error,
    topic_address,
)
from integrations.telegram.render import MESSAGE_LIMIT, Rendered, render_card, render_keyboard

__all__ = [
    "MESSAGE_LIMIT",
    "TELEGRAM_LIMITS",
    "Rendered",
    "TelegramNotifier",
    "delivery_error",
    "render_card",
    "render_keyboard",
    "topic_address",
]
