"""The HTTP control API under /_control/: play users, inject faults, look inside. No auth, not
logged, no rate limits; answers are plain JSON (`{"error": ...}` with 400/404 on bad input)."""

from __future__ import annotations

import base64
import binascii
import dataclasses

from aiohttp import web
from pydantic import Field

from sandbox.common.control import ControlBody as _Body
from sandbox.common.control import (
    ControlRoutes,
    MethodFaultOrder,
    read_body,
)
from sandbox.telegram.context import context_of
from sandbox.telegram.people import People
from sandbox.telegram.records import ChatMessage, FileRecord, JsonDict

PEOPLE = web.AppKey("telegram_people", People)

_USER = r"/_control/users/{id:\d+}"


class NewUser(_Body):
    first_name: str
    username: str | None = None
    language_code: str | None = None
    last_name: str | None = None
    started: bool = False


class NewGroup(_Body):
    title: str
    members: list[int] = Field(default_factory=list)
    forum: bool = False  # a supergroup with topics


class _Sent(_Body):
    """What a user sends, to ``chat_id`` (None: the private chat with the bot)."""

    chat_id: int | None = None


class UserMessage(_Sent):
    text: str
    thread_id: int | None = None  # a topic of a forum


class UserDocument(_Sent):
    file_name: str
    content: str  # base64
    caption: str | None = None
    mime_type: str = "application/octet-stream"


class Press(_Body):
    chat_id: int
    message_id: int
    callback_data: str


def _file_json(record: FileRecord | None) -> JsonDict | None:
    if record is None:
        return None
    return {
        "file_id": record.file_id,
        "file_name": record.file_name,
        "mime_type": record.mime_type,
        "size": record.size,
    }


def message_json(message: ChatMessage) -> JsonDict:
    body = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
    body["entities"] = list(message.entities)
    body["edits"] = list(message.edits)
    body["photo"] = _file_json(message.photo)
    body["document"] = _file_json(message.document)
    return body


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


CONTROL = ControlRoutes(
    context_of,
    MethodFaultOrder,
    not_found=lambda exc: str(exc.args[0]) if exc.args else "not found",
    log="the Bot API request log",
    faults='{"kind": "500|502|429|timeout", "count"?, "method"?}',
)


@CONTROL.post("/_control/users", '{"first_name", "username"?, "language_code"?, "started"?}')
async def add_user(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, NewUser)
    user_id = request.app[PEOPLE].add_user(
        body.first_name,
        username=body.username,
        language_code=body.language_code,
        last_name=body.last_name,
        started=body.started,
    )
    return web.json_response({"id": user_id}, status=201)


@CONTROL.post(
    "/_control/groups", '{"title", "members": [user ids], "forum"?} -> {"id"} (negative)'
)
async def add_group(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, NewGroup)
    group_id = request.app[PEOPLE].add_group(body.title, body.members, forum=body.forum)
    return web.json_response({"id": group_id}, status=201)


@CONTROL.post(r"/_control/groups/{id:-?\d+}/topics", "a topic opens -> {message_thread_id}")
async def add_topic(request: web.Request) -> web.StreamResponse:
    thread = request.app[PEOPLE].add_topic(int(request.match_info["id"]))
    return web.json_response({"message_thread_id": thread}, status=201)


@CONTROL.post(f"{_USER}/messages", '{"text", "chat_id"?, "thread_id"?}: the user writes')
async def send_message(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, UserMessage)
    message_id = request.app[PEOPLE].say(_id(request), body.text, body.chat_id, body.thread_id)
    return web.json_response({"message_id": message_id})


@CONTROL.post(
    f"{_USER}/documents",
    '{"file_name", "content" (base64), "caption"?, "chat_id"?}: the user sends a file',
)
async def send_document(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, UserDocument)
    try:
        data = base64.b64decode(body.content, validate=True)
    except binascii.Error:
        raise ValueError("content: base64 expected") from None
    message_id = await request.app[PEOPLE].send_document(
        _id(request), body.file_name, data, caption=body.caption, mime_type=body.mime_type,
        chat_id=body.chat_id,
    )  # fmt: skip
    return web.json_response({"message_id": message_id})


@CONTROL.post(f"{_USER}/press", '{"chat_id", "message_id", "callback_data"}')
async def press(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, Press)
    query_id = await request.app[PEOPLE].press(
        _id(request), body.chat_id, body.message_id, body.callback_data
    )
    return web.json_response({"callback_query_id": query_id})


@CONTROL.post(f"{_USER}/block", "the user blocks the bot")
async def block(request: web.Request) -> web.StreamResponse:
    request.app[PEOPLE].block(_id(request))
    return web.json_response({"blocked": True})


@CONTROL.post(f"{_USER}/unblock", "and unblocks it")
async def unblock(request: web.Request) -> web.StreamResponse:
    request.app[PEOPLE].unblock(_id(request))
    return web.json_response({"blocked": False})


@CONTROL.get(r"/_control/chats/{id:-?\d+}/transcript", "both sides of a chat, edits included")
async def transcript(request: web.Request) -> web.StreamResponse:
    state = context_of(request).state
    chat_id = _id(request)
    state.chat(chat_id)
    return web.json_response([message_json(m) for m in state.transcript(chat_id)])


CONTROL.records(
    "/_control/callback-answers",
    "every answerCallbackQuery, late ones flagged",
    lambda request: context_of(request).state.callback_answers,
)
