"""sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage."""

from __future__ import annotations

from dataclasses import replace

from sandbox.telegram import wire
from sandbox.telegram.api.common import (
    check_writable,
    post_bot_message,
    resolve_chat,
    resolve_message,
)
from sandbox.telegram.context import BotContext
from sandbox.telegram.errors import NOT_MODIFIED, bad_request
from sandbox.telegram.formatting import FormattedText, format_text
from sandbox.telegram.keyboard import inline_part, read_reply_markup
from sandbox.telegram.params import Params
from sandbox.telegram.records import ChatMessage, JsonDict

_DELETE_WINDOW_S = 48 * 3600  # older messages can't be deleted for everyone


def _text(params: Params) -> FormattedText:
    entities = params.json("entities", invalid="can't parse entities JSON object")
    return format_text(params.text("text"), params.text("parse_mode"), entities)


async def send_message(ctx: BotContext, params: Params) -> JsonDict:
    formatted = _text(params)
    markup = read_reply_markup(params)
    chat = resolve_chat(ctx, params)
    check_writable(ctx, chat)
    thread = params.integer("message_thread_id")
    if thread and thread not in chat.topics:  # a topic of this forum, or none
        raise bad_request("message thread not found")
    return post_bot_message(ctx, chat, formatted, markup, thread_id=thread or None)


def _editable(ctx: BotContext, params: Params) -> ChatMessage:
    chat, current = resolve_message(ctx, params, "message to edit")
    if not current.from_bot:
        raise bad_request("message can't be edited")
    check_writable(ctx, chat)
    return current


def _store_edit(ctx: BotContext, edited: ChatMessage) -> JsonDict:
    ctx.limiter.admit(edited.chat_id)
    ctx.state.put_message(edited)
    ctx.state.edited += 1
    return wire.message(ctx.state, edited)


async def edit_message_text(ctx: BotContext, params: Params) -> JsonDict:
    formatted = _text(params)
    markup = read_reply_markup(params, inline_only=True)
    current = _editable(ctx, params)
    if current.photo is not None or current.document is not None:
        raise bad_request("there is no text in the message to edit")
    # Without reply_markup the edit removes the inline keyboard, as on Telegram.
    if (
        formatted.text == current.text
        and formatted.entities == current.entities
        and markup == inline_part(current.reply_markup)
    ):
        raise bad_request(NOT_MODIFIED)
    edited = replace(
        current,
        text=formatted.text,
        html=formatted.html,
        entities=formatted.entities,
        reply_markup=markup,
        edit_date=ctx.state.date(),
        edits=current.edits if formatted.text == current.text else (*current.edits, current.text),
    )
    return _store_edit(ctx, edited)


async def edit_message_reply_markup(ctx: BotContext, params: Params) -> JsonDict:
    markup = read_reply_markup(params, inline_only=True)
    current = _editable(ctx, params)
    if markup == inline_part(current.reply_markup):
        raise bad_request(NOT_MODIFIED)
    edited = replace(current, reply_markup=markup, edit_date=ctx.state.date())
    return _store_edit(ctx, edited)


async def delete_message(ctx: BotContext, params: Params) -> bool:
    if not params.given("chat_id"):
        raise bad_request("chat identifier is not specified")
    if not params.integer("message_id"):
        raise bad_request("message identifier is not specified")
    chat, current = resolve_message(ctx, params, "message to delete")
    if chat.type != "private" and not current.from_bot:
        raise bad_request("message can't be deleted")  # the bot is no admin in emulated groups
    if ctx.state.now() - current.date > _DELETE_WINDOW_S:
        raise bad_request("message can't be deleted for everyone")
    ctx.state.put_message(replace(current, deleted=True))
    ctx.state.deleted += 1
    return True
