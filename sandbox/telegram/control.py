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
    MethodFaultOrder,
    answers_errors,
    fault_routes,
    read_body,
    records_json,
)
from sandbox.telegram.context import context_of
from sandbox.telegram.people import People
from sandbox.telegram.records import ChatMessage, FileRecord, JsonDict

PEOPLE = web.AppKey("telegram_people", People)
_answers_errors = answers_errors(lambda exc: str(exc.args[0]) if exc.args else "not found")

# (HTTP method, path, body or meaning), for `amobridge sandbox` and the README.
CONTROL_ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("POST", "/_control/users", '{"first_name", "username"?, "language_code"?, "started"?}'),
    (
        "POST",
        "/_control/groups",
        '{"title", "members": [user ids], "forum"?} -> {"id"} (negative)',
    ),
    ("POST", "/_control/groups/{id}/topics", "a topic opens -> {message_thread_id}"),
    (
        "POST",
        "/_control/users/{id}/messages",
        '{"text", "chat_id"?, "thread_id"?}: the user writes',
    ),
    (
        "POST",
        "/_control/users/{id}/documents",
        '{"file_name", "content" (base64), "caption"?, "chat_id"?}: the user sends a file',
    ),
    ("POST", "/_control/users/{id}/press", '{"chat_id", "message_id", "callback_data"}'),
    ("POST", "/_control/users/{id}/block", "the user blocks the bot (/unblock undoes it)"),
    ("GET", "/_control/chats/{id}/transcript", "both sides of a chat, edits included"),
    ("GET", "/_control/requests", "the Bot API request log"),
    ("GET", "/_control/callback-answers", "every answerCallbackQuery, late ones flagged"),
    ("POST", "/_control/faults", '{"kind": "500|502|429|timeout", "count"?, "method"?}'),
    ("DELETE", "/_control/faults", "drop the pending faults"),
)


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


class UserMessage(_Body):
    text: str
    chat_id: int | None = None
    thread_id: int | None = None  # a topic of a forum


class UserDocument(_Body):
    file_name: str
    content: str  # base64
    caption: str | None = None
    mime_type: str = "application/octet-stream"
    chat_id: int | None = None


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


@_answers_errors
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


@_answers_errors
async def add_group(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, NewGroup)
    group_id = request.app[PEOPLE].add_group(body.title, body.members, forum=body.forum)
    return web.json_response({"id": group_id}, status=201)


@_answers_errors
async def add_topic(request: web.Request) -> web.StreamResponse:
    thread = request.app[PEOPLE].add_topic(int(request.match_info["id"]))
    return web.json_response({"message_thread_id": thread}, status=201)


@_answers_errors
async def send_message(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, UserMessage)
    message_id = request.app[PEOPLE].say(_id(request), body.text, body.chat_id, body.thread_id)
    return web.json_response({"message_id": message_id})


@_answers_errors
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


@_answers_errors
async def press(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, Press)
    query_id = await request.app[PEOPLE].press(
        _id(request), body.chat_id, body.message_id, body.callback_data
    )
    return web.json_response({"callback_query_id": query_id})


@_answers_errors
async def block(request: web.Request) -> web.StreamResponse:
    request.app[PEOPLE].block(_id(request))
    return web.json_response({"blocked": True})


@_answers_errors
async def unblock(request: web.Request) -> web.StreamResponse:
    request.app[PEOPLE].unblock(_id(request))
    return web.json_response({"blocked": False})


@_answers_errors
async def transcript(request: web.Request) -> web.StreamResponse:
    state = context_of(request).state
    chat_id = _id(request)
    state.chat(chat_id)
    return web.json_response([message_json(m) for m in state.transcript(chat_id)])


async def requests(request: web.Request) -> web.StreamResponse:
    return records_json(context_of(request).request_log)


async def callback_answers(request: web.Request) -> web.StreamResponse:
    return records_json(context_of(request).state.callback_answers)


def control_routes() -> list[web.RouteDef]:
    user = r"/_control/users/{id:\d+}"
    return [
        web.post("/_control/users", add_user),
        web.post("/_control/groups", add_group),
        web.post(r"/_control/groups/{id:-?\d+}/topics", add_topic),
        web.post(f"{user}/messages", send_message),
        web.post(f"{user}/documents", send_document),
        web.post(f"{user}/press", press),
        web.post(f"{user}/block", block),
        web.post(f"{user}/unblock", unblock),
        web.get(r"/_control/chats/{id:-?\d+}/transcript", transcript),
        web.get("/_control/requests", requests),
        web.get("/_control/callback-answers", callback_answers),
        *fault_routes(
            lambda request: context_of(request).faults, MethodFaultOrder, _answers_errors
        ),
    ]
