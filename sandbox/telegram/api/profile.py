"""getMe and the command menu (setMyCommands / getMyCommands / deleteMyCommands).

Commands are stored per (scope, language_code); getMyCommands returns exactly what was set for
that pair, with no fallback, as the Bot API does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.telegram import wire
from sandbox.telegram.context import BotContext
from sandbox.telegram.errors import bad_request
from sandbox.telegram.params import Params
from sandbox.telegram.records import JsonDict
from sandbox.telegram.state import BotState

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_MAX_COMMANDS = 100
_SCOPES_WITHOUT_CHAT = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
)


async def get_me(ctx: BotContext, params: Params) -> JsonDict:
    return wire.get_me(ctx.state.bot)


def scope_key(state: BotState, scope: Any) -> str:
    """A canonical key for a BotCommandScope ("default", "chat:-4000000001", ...)."""
    if scope is None:
        return "default"
    if isinstance(scope, str):
        scope = {"type": scope}
    if not isinstance(scope, Mapping):
        raise bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
    kind = scope.get("type")
    if not isinstance(kind, str):
        raise bad_request("can't parse BotCommandScope: Can't find field \"type\"")
    if kind in _SCOPES_WITHOUT_CHAT:
        return kind
    if kind not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("can't parse BotCommandScope: Unsupported type specified")
    try:
        chat_id = int(str(scope.get("chat_id", "")))
    except ValueError:
        raise bad_request("chat not found") from None
    if chat_id not in state.chats:
        raise bad_request("chat not found")
    if kind != "chat_member":
        return f"{kind}:{chat_id}"
    user_id = scope.get("user_id")
    if not isinstance(user_id, int) or user_id not in state.users:
        raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
    return f"chat_member:{chat_id}:{user_id}"


def _key(ctx: BotContext, params: Params) -> tuple[str, str]:
    scope = params.json("scope", invalid="can't parse BotCommandScope JSON object")
    language = (params.text("language_code") or "").strip()
    if language and not _LANGUAGE.match(language):
        raise bad_request("invalid language code specified")
    return scope_key(ctx.state, scope), language


def _commands(params: Params) -> tuple[JsonDict, ...]:
    value = params.json("commands", invalid="can't parse commands JSON object")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("expected an Array of BotCommand")
    if len(value) > _MAX_COMMANDS:
        raise bad_request("too many commands specified")
    commands: list[JsonDict] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not isinstance(description, str):
            raise bad_request("can't parse BotCommand: command and description are required")
        if not _COMMAND.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return tuple(commands)


async def set_my_commands(ctx: BotContext, params: Params) -> bool:
    commands = _commands(params)
    key = _key(ctx, params)
    if commands:
        ctx.state.commands[key] = commands
    else:
        ctx.state.commands.pop(key, None)  # an empty list deletes, like deleteMyCommands
    return True


async def get_my_commands(ctx: BotContext, params: Params) -> list[JsonDict]:
    return [dict(c) for c in ctx.state.commands.get(_key(ctx, params), ())]


async def delete_my_commands(ctx: BotContext, params: Params) -> bool:
    ctx.state.commands.pop(_key(ctx, params), None)
    return True
