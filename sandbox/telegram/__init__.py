"""A wire-level, stateful emulator of the Telegram Bot API for one bot.

It serves `/bot<token>/<method>` as Telegram does (encodings, envelope, status = error_code,
long polling, webhooks, limits and validations) and plays the users on the other side, so that
aiogram, or any Bot API client, can be tested against it unchanged. It imports nothing from the
service: it is checked against Telegram, not against our code.
"""

from sandbox.telegram.control import CONTROL
from sandbox.telegram.emulator import TelegramEmulator
from sandbox.telegram.faults import FaultKind
from sandbox.telegram.records import (
    CallbackAnswer,
    ChatMessage,
    FileRecord,
    RateLimits,
    RequestRecord,
    Stats,
    WebhookDelivery,
    WebhookInfo,
)

# (HTTP method, path, body or meaning) of each control endpoint, as `amobridge sandbox` lists them.
CONTROL_ENDPOINTS = CONTROL.endpoints

__all__ = [
    "CONTROL_ENDPOINTS",
    "CallbackAnswer",
    "ChatMessage",
    "FaultKind",
    "FileRecord",
    "RateLimits",
    "RequestRecord",
    "Stats",
    "TelegramEmulator",
    "WebhookDelivery",
    "WebhookInfo",
]
