"""users.*: the workspace's members. ``profile.email`` only with ``users:read.email``."""

from __future__ import annotations

import base64
import binascii

from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict, SlackUser


def _json(ctx: Context, user: SlackUser, params: Params) -> JsonDict:
    return user.to_json(ctx.ws.team_id, with_email="users:read.email" in ctx.ws.scopes,
                        with_locale=params.flag("include_locale"))  # fmt: skip


async def info(ctx: Context, params: Params) -> JsonDict:
    user = ctx.ws.anyone(params.string("user"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": _json(ctx, user, params)}


async def lookup_by_email(ctx: Context, params: Params) -> JsonDict:
    """An active person with that e-mail, compared without case (a deactivated person is not
    found)."""
    wanted = params.string("email").strip().lower()
    if not wanted:
        raise ApiError("invalid_arguments")
    for user in ctx.ws.users.values():
        if user.email and user.email.lower() == wanted and not user.deleted:
            return {"user": _json(ctx, user, params)}
    raise ApiError("users_not_found")


def _cursor(user_id: str) -> str:
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _after_cursor(cursor: str) -> str:
    try:
        kind, _, user_id = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    if kind != "user" or not user_id:
        raise ApiError("invalid_cursor")
    return user_id


async def members(ctx: Context, params: Params) -> JsonDict:
    """Everyone (deactivated people, Slackbot and bots included), a page of ``limit`` at a
    time; ``next_cursor`` is "" on the last page."""
    everyone = ctx.ws.everyone()
    limit = params.integer("limit") or len(everyone)
    cursor = params.text("cursor")
    start = 0
    if cursor is not None:
        first = _after_cursor(cursor)
        start = next((n for n, u in enumerate(everyone) if u.id >= first), len(everyone))
    page = everyone[start : start + max(1, limit)]
    rest = everyone[start + len(page) :]
    return {
        "members": [_json(ctx, u, params) for u in page], "cache_ts": int(ctx.ws.clock()),
        "response_metadata": {"next_cursor": _cursor(rest[0].id) if rest else ""},
    }  # fmt: skip
