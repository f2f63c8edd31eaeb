"""Bot API objects as JSON: User, Chat, Message, PhotoSize, Document and update payloads.

Shapes follow the Bot API types that aiogram validates (a Message needs message_id, a non-zero
date and chat{id,type}; a CallbackQuery needs chat_instance).
"""

from __future__ import annotations

from sandbox.telegram.keyboard import inline_part
from sandbox.telegram.records import ChatMessage, FileRecord, JsonDict
from sandbox.telegram.state import BotIdentity, BotState, ChatRecord, UserRecord


def bot_user(bot: BotIdentity) -> JsonDict:
    return {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username}


def get_me(bot: BotIdentity) -> JsonDict:
    return {
        **bot_user(bot),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def user(record: UserRecord) -> JsonDict:
    body: JsonDict = {"id": record.id, "is_bot": False, "first_name": record.first_name}
    for key in ("last_name", "username", "language_code"):
        value = getattr(record, key)
        if value is not None:
            body[key] = value
    return body


def chat(state: BotState, record: ChatRecord) -> JsonDict:
    if record.type == "private" and record.user_id is not None:
        person = state.user(record.user_id)
        body: JsonDict = {"id": record.id, "type": "private", "first_name": person.first_name}
        if person.last_name is not None:
            body["last_name"] = person.last_name
        if person.username is not None:
            body["username"] = person.username
        return body
    body = {"id": record.id, "type": record.type, "title": record.title or ""}
    if record.is_forum:
        body["is_forum"] = True
    return body


def photo_sizes(record: FileRecord) -> list[JsonDict]:
    return [
        {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "width": record.width,
            "height": record.height,
            "file_size": record.size,
        }
    ]


def document(record: FileRecord) -> JsonDict:
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_name": record.file_name,
        "mime_type": record.mime_type,
        "file_size": record.size,
    }


def message(state: BotState, stored: ChatMessage) -> JsonDict:
    sender = bot_user(state.bot) if stored.from_bot else user(state.user(stored.sender_id))
    body: JsonDict = {
        "message_id": stored.message_id,
        "from": sender,
        "chat": chat(state, state.chat(stored.chat_id)),
        "date": stored.date,
    }
    media = stored.photo is not None or stored.document is not None
    if stored.photo is not None:
        body["photo"] = photo_sizes(stored.photo)
    if stored.document is not None:
        body["document"] = document(stored.document)
    if media:
        if stored.text:
            body["caption"] = stored.text
            if stored.entities:
                body["caption_entities"] = [dict(e) for e in stored.entities]
    else:
        body["text"] = stored.text
        if stored.entities:
            body["entities"] = [dict(e) for e in stored.entities]
    if stored.thread_id is not None:
        body |= {"message_thread_id": stored.thread_id, "is_topic_message": True}
    if stored.edit_date is not None:
        body["edit_date"] = stored.edit_date
    markup = inline_part(stored.reply_markup)
    if markup is not None:
        body["reply_markup"] = markup
    return body
