"""What several methods share: where a message may go, and what it may hold."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sandbox.slack.blockkit import BlockError, check_blocks, with_ids
from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError, blocks_refused
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict
from sandbox.slack.state import Channel, Workspace

Method = Callable[[Context, Params], Awaitable[JsonDict]]

MAX_TEXT = 40_000  # chat.postMessage cuts longer text ("risk truncation"), it does not refuse
MAX_UPDATE_TEXT = 4_000  # chat.update refuses longer text with msg_too_long


def postable(ws: Workspace, ref: str) -> Channel:
    """The channel the bot may post in, named by id, a person's id (their DM) or name."""
    channel = ws.resolve(ref) if ref else None
    if channel is None:
        raise ApiError("channel_not_found")
    if channel.is_im:
        assert channel.im_user is not None
        if ws.users[channel.im_user].deleted and ws.deactivated_dm_error is not None:
            raise ApiError(ws.deactivated_dm_error)
    elif channel.is_private and not channel.bot_member:
        raise ApiError("channel_not_found")  # the app cannot see a private channel it is not in
    elif channel.is_archived:
        raise ApiError("is_archived")
    elif not channel.bot_member and "chat:write.public" not in ws.scopes:
        raise ApiError("not_in_channel")
    return channel


def message_blocks(params: Params) -> list[JsonDict] | None:
    """The checked ``blocks`` of a message as Slack stores them; None when not given."""
    blocks = params.structured("blocks", invalid="invalid_blocks_format")
    if blocks is None:
        return None
    try:
        check_blocks(blocks, "message")
    except BlockError as exc:
        raise blocks_refused("invalid_blocks", exc) from None
    return with_ids(blocks)


def message_content(params: Params) -> tuple[str, list[JsonDict]]:
    """Text and blocks of a new message: text is needed when there are no blocks (it is the
    notification fallback when there are); text past 40,000 characters is cut."""
    blocks = message_blocks(params) or []
    text = params.string("text")
    if not text and not blocks and not params.given("attachments"):
        raise ApiError("no_text")
    return text[:MAX_TEXT], blocks
