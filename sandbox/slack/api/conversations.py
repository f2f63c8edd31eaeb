"""conversations.open: the app's direct message with one person, the same one every time;
conversations.info and conversations.join: a channel as the app sees it, and the app joining a
public one; conversations.history: a channel's messages, newest first."""

from __future__ import annotations

import base64

from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError, missing_scope
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict
from sandbox.slack.state import Channel

MAX_USERS = 8
HISTORY_LIMIT = 100  # conversations.history's default page
MAX_HISTORY_LIMIT = 999


async def open_dm(ctx: Context, params: Params) -> JsonDict:
    ws = ctx.ws
    channel_id = params.text("channel")
    if channel_id is not None:  # reopening a DM by its id
        found = ws.channels.get(channel_id)
        if found is None:
            raise ApiError("channel_not_found")
        if not found.is_im:
            raise ApiError("method_not_supported_for_channel_type")
        return {"no_op": True, "already_open": True, "channel": {"id": found.id}}
    users = [u.strip() for u in params.string("users").split(",") if u.strip()]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > MAX_USERS:
        raise ApiError("too_many_users")
    if len(users) > 1:
        raise ApiError("method_not_supported_for_channel_type")  # no group DMs emulated
    user = ws.anyone(users[0])
    if user is None:
        raise ApiError("user_not_found")
    if user.deleted:
        raise ApiError("user_disabled")
    if user.is_bot or user.id not in ws.users:
        raise ApiError("cannot_dm_bot")
    channel = ws.dm(user.id)
    already = channel.opened
    channel.opened = True
    answer: JsonDict = {"channel": {"id": channel.id}}
    if params.flag("return_im"):
        answer["channel"] |= {
            "created": int(ws.clock()), "is_im": True, "is_org_shared": False, "user": user.id,
            "is_user_deleted": False, "priority": 0,
        }  # fmt: skip
    if already:
        answer |= {"no_op": True, "already_open": True}
    return answer


def _channel_json(channel: Channel) -> JsonDict:
    return {
        "id": channel.id, "name": channel.name, "is_channel": not channel.is_im,
        "is_im": channel.is_im, "is_private": channel.is_private or channel.is_im,
        "is_archived": channel.is_archived, "is_member": channel.bot_member,
    }  # fmt: skip


def _visible(ctx: Context, params: Params) -> Channel:
    """The channel named, as the app may see it: a private channel it is not in is, for the
    app, not there (channel_not_found), as Slack answers."""
    channel = ctx.ws.channels.get(params.string("channel"))
    if channel is None or (channel.is_private and not channel.bot_member):
        raise ApiError("channel_not_found")
    return channel


async def info(ctx: Context, params: Params) -> JsonDict:
    """conversations.info: channels:read for a public channel, groups:read for a private one."""
    channel = _visible(ctx, params)
    if channel.is_private and "groups:read" not in ctx.ws.scopes:
        raise missing_scope("groups:read", ctx.ws.scopes)
    return {"channel": _channel_json(channel)}


async def join(ctx: Context, params: Params) -> JsonDict:
    """conversations.join: the app joins a public channel by itself; a private one (or a
    direct message) it must be invited to (method_not_supported_for_channel_type)."""
    channel = ctx.ws.channels.get(params.string("channel"))
    if channel is None or (channel.is_private and not channel.bot_member):
        raise ApiError("channel_not_found")
    if channel.is_private or channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    already = channel.bot_member
    channel.bot_member = True
    answer: JsonDict = {"channel": _channel_json(channel)}
    if already:
        answer["warning"] = "already_in_channel"
        answer["response_metadata"] = {"warnings": ["already_in_channel"]}
    return answer


def _bound(params: Params, name: str) -> float | None:
    raw = params.text(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ApiError("invalid_arguments") from None


def _cursor(params: Params) -> float | None:
    """Where the previous page stopped: the ts its next page starts below."""
    raw = params.text("cursor")
    if raw is None:
        return None
    try:
        return float(base64.b64decode(raw, validate=True).decode().removeprefix("next_ts:"))
    except ValueError:
        raise ApiError("invalid_cursor") from None


async def history(ctx: Context, params: Params) -> JsonDict:
    """A page of the channel's messages, newest first (thread replies stay in their thread).
    The scope needed depends on the channel: im:history, channels:history, groups:history.
    ``metadata`` is on the messages only with ``include_all_metadata``."""
    ws = ctx.ws
    channel = ws.channels.get(params.string("channel"))
    if channel is None:
        raise ApiError("channel_not_found")
    needed = "im:history" if channel.is_im else "channels:history"
    if needed not in ws.scopes:
        raise missing_scope(needed, ws.scopes)
    if not channel.is_im and not channel.bot_member:
        raise ApiError("not_in_channel")
    limit = params.integer("limit") or HISTORY_LIMIT
    limit = max(1, min(limit, MAX_HISTORY_LIMIT))
    oldest, latest = _bound(params, "oldest"), _bound(params, "latest")
    below = _cursor(params)
    inclusive = params.flag("inclusive")

    def within(ts: float) -> bool:
        if below is not None and ts >= below:
            return False
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        return latest is None or ts < latest or (ts == latest and inclusive)

    shown = sorted(
        (m for m in ws.messages(channel.id)
         if not m.deleted and (m.thread_ts in (None, m.ts)) and within(float(m.ts))),
        key=lambda m: float(m.ts), reverse=True,
    )  # fmt: skip
    page, more = shown[:limit], len(shown) > limit
    with_metadata = params.flag("include_all_metadata")
    answer: JsonDict = {
        "messages": [m.to_json(with_metadata=with_metadata) for m in page],
        "has_more": more, "pin_count": 0,
    }  # fmt: skip
    if more:
        next_cursor = base64.b64encode(f"next_ts:{page[-1].ts}".encode()).decode()
        answer["response_metadata"] = {"next_cursor": next_cursor}
    return answer
