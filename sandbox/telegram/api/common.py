"""Checks every chat-bound method makes, with the Bot API's answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.telegram import wire
from sandbox.telegram.context import BotContext
from sandbox.telegram.errors import bad_request, forbidden
from sandbox.telegram.formatting import FormattedText
from sandbox.telegram.params import Params
from sandbox.telegram.records import ChatMessage, FileRecord, JsonDict
from sandbox.telegram.state import ChatRecord


@dataclass(frozen=True, slots=True)
class Described:
    """A result that comes with a `description` in the envelope (e.g. "Webhook was set")."""

    result: Any
    description: str


def resolve_chat(ctx: BotContext, params: Params) -> ChatRecord:
    """The chat named by chat_id, if the bot may use it."""
    raw = (params.text("chat_id") or "").strip()
    if not raw:
        raise bad_request("chat_id is empty")
    try:
        chat_id = int(raw)
    except ValueError:
        raise bad_request("chat not found") from None  # "@username" chats are not emulated
    chat = ctx.state.chats.get(chat_id)
    if chat is None:
        raise bad_request("chat not found")
    if chat.type == "private" and chat.user_id is not None:
        person = ctx.state.user(chat.user_id)
        if person.deactivated:
            raise forbidden("user is deactivated")
        if not person.started:
            raise bad_request("chat not found")  # a bot cannot write first
    elif not chat.bot_member:
        raise forbidden("bot was kicked from the group chat")
    return chat


def check_writable(ctx: BotContext, chat: ChatRecord) -> None:
    """Sends and edits stop once the user has blocked the bot, or a group's admin took the
    bot's right to send messages."""
    user_id = chat.user_id if chat.type == "private" else None
    if user_id is not None and ctx.state.user(user_id).blocked:
        raise forbidden("bot was blocked by the user")
    if not chat.can_post:
        raise bad_request("not enough rights to send text messages to the chat")


def resolve_message(ctx: BotContext, params: Params, what: str) -> tuple[ChatRecord, ChatMessage]:
    """The (chat, message) named by chat_id and message_id; `what` names it in the 400."""
    message_id = params.integer("message_id")
    if not params.given("chat_id") and not message_id:
        if params.given("inline_message_id"):
            raise bad_request("inline messages are not emulated")
        raise bad_request("message identifier is not specified")
    chat = resolve_chat(ctx, params)
    message = ctx.state.message(chat.id, message_id or 0)
    if message is None or message.deleted:
        raise bad_request(f"{what} not found")
    return chat, message


def post_bot_message(
    ctx: BotContext,
    chat: ChatRecord,
    content: FormattedText,
    markup: JsonDict | None,
    file: FileRecord | None = None,
    thread_id: int | None = None,
) -> JsonDict:
    """The bot's new message (a text, or a file with ``content`` its caption), within the rate
    limits; its wire JSON."""
    ctx.limiter.admit(chat.id)
    state = ctx.state
    stored = ChatMessage(
        chat_id=chat.id,
        message_id=state.next_message_id(chat.id),
        from_bot=True,
        sender_id=state.bot.id,
        text=content.text,
        html=content.html,
        entities=content.entities,
        reply_markup=markup,
        date=state.date(),
        photo=file if file is not None and file.kind == "photo" else None,
        document=file if file is not None and file.kind == "document" else None,
        thread_id=thread_id,
    )
    state.put_message(stored)
    state.sent += 1
    return wire.message(state, stored)
