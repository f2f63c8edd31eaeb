"""The Bot API methods the emulator implements, by lower-cased name (names ignore case)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from sandbox.telegram.api import callbacks, media, messages, profile, updates
from sandbox.telegram.context import BotContext
from sandbox.telegram.params import Params

MethodHandler = Callable[[BotContext, Params], Awaitable[Any]]

METHODS: Final[Mapping[str, MethodHandler]] = MappingProxyType(
    {
        "getme": profile.get_me,
        "getupdates": updates.get_updates,
        "setwebhook": updates.set_webhook,
        "deletewebhook": updates.delete_webhook,
        "getwebhookinfo": updates.get_webhook_info,
        "sendmessage": messages.send_message,
        "editmessagetext": messages.edit_message_text,
        "editmessagereplymarkup": messages.edit_message_reply_markup,
        "deletemessage": messages.delete_message,
        "answercallbackquery": callbacks.answer_callback_query,
        "setmycommands": profile.set_my_commands,
        "getmycommands": profile.get_my_commands,
        "deletemycommands": profile.delete_my_commands,
        "sendphoto": media.send_photo,
        "senddocument": media.send_document,
        "getfile": media.get_file,
    }
)

__all__ = ["METHODS", "MethodHandler"]
