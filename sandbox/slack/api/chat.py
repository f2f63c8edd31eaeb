"""chat.*: the app's messages (posted, edited, deleted) and ephemeral messages."""

from __future__ import annotations

from sandbox.slack.api.common import (
    MAX_TEXT,
    MAX_UPDATE_TEXT,
    message_blocks,
    message_content,
    postable,
)
from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict, SlackMessage


async def post_message(ctx: Context, params: Params) -> JsonDict:
    channel = postable(ctx.ws, params.string("channel"))
    text, blocks = message_content(params)
    metadata = _metadata(params)
    message = ctx.ws.post(
        channel.id, text, blocks, thread_ts=params.text("thread_ts"), metadata=metadata
    )
    return {"channel": channel.id, "ts": message.ts, "message": message.to_json()}


def _metadata(params: Params) -> JsonDict | None:
    """``metadata`` as Slack's message metadata docs give it: a JSON object (or its text in a
    form) with a string ``event_type`` and an object ``event_payload``."""
    metadata = params.structured("metadata", invalid="invalid_metadata_format")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ApiError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise ApiError("invalid_metadata_schema")
    return {"event_type": event_type, "event_payload": payload}


def _own_message(ctx: Context, params: Params, refused: str) -> SlackMessage:
    """The message ``channel``/``ts`` names, which the bot posted (else ``refused``)."""
    channel = params.string("channel")
    if channel not in ctx.ws.channels:
        raise ApiError("channel_not_found")
    current = ctx.ws.message(channel, params.string("ts"))
    if current is None or current.deleted:
        raise ApiError("message_not_found")
    if not current.from_bot:
        raise ApiError(refused)
    return current


async def update(ctx: Context, params: Params) -> JsonDict:
    """As Slack's reference says: blocks left out are kept only when text is left out too; text
    without blocks replaces the message, its blocks removed (an empty list removes them too).
    Text left out becomes empty. More than 4,000 characters of text: msg_too_long."""
    current = _own_message(ctx, params, "cant_update_message")
    text = params.string("text")
    blocks = message_blocks(params)
    if blocks is None:
        blocks = [] if text else current.blocks
    if not text and not blocks and not params.given("attachments"):
        raise ApiError("no_text")
    if len(text) > MAX_UPDATE_TEXT:
        raise ApiError("msg_too_long")
    message = ctx.ws.update(current.channel, current.ts, text, blocks)
    return {"channel": message.channel, "ts": message.ts, "text": text,
            "message": message.to_json()}  # fmt: skip


async def delete(ctx: Context, params: Params) -> JsonDict:
    current = _own_message(ctx, params, "cant_delete_message")
    ctx.ws.delete(current.channel, current.ts)
    return {"channel": current.channel, "ts": current.ts}


async def post_ephemeral(ctx: Context, params: Params) -> JsonDict:
    """Shown to one member of the channel only; Slack keeps no history of it."""
    channel = postable(ctx.ws, params.string("channel"))
    user = params.string("user")
    if not ctx.ws.can_see(user, channel):
        raise ApiError("user_not_in_channel")
    text, blocks = message_content(params)
    note = ctx.ws.ephemeral(channel.id, user, text[:MAX_TEXT], blocks, "chat.postEphemeral")
    return {"message_ts": note.ts}
