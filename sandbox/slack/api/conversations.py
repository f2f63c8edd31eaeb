"""conversations.open: the app's direct message with one person, the same one every time."""

from __future__ import annotations

from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict

MAX_USERS = 8


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
