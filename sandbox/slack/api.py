"""The Web API methods: ``/api/<method>`` with Slack's inputs, answers and errors.

Errors are HTTP 200 with ``{"ok": false, "error": code}``, as Slack answers them; only a rate
limit is an HTTP 429 (with an integer ``Retry-After``). A refused call changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack.blockkit import BlockError, check_blocks, check_view
from sandbox.slack.records import JsonDict, ViewRecord
from sandbox.slack.state import UploadedFile, Workspace

MAX_TEXT = 40_000  # chat.postMessage truncates past this; chat.update refuses over 4,000
MAX_UPDATE_TEXT = 4_000

# The scope each method needs (a bot token); methods not listed need none.
SCOPES = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write", "chat.delete": "chat:write",
    "conversations.open": "im:write", "users.info": "users:read", "users.list": "users:read",
    "users.lookupByEmail": "users:read.email", "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}  # fmt: skip


class ApiError(Exception):
    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass(frozen=True, slots=True)
class Answer:
    body: JsonDict
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Params = dict[str, Any]
Method = Callable[["Api", Params], Awaitable[JsonDict]]


def _json_param(params: Params, name: str) -> Any:
    """A structured argument: JSON in a JSON body, a JSON string in a form or query."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            code = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
            raise ApiError(code) from None
    return value


def _messages(exc: BlockError) -> JsonDict:
    return {"messages": [f"[ERROR] {exc}"]}


class Api:
    def __init__(self, ws: Workspace, base_url: Callable[[], str]) -> None:
        self.ws = ws
        self._base_url = base_url
        self.methods: dict[str, Method] = {
            "auth.test": Api.auth_test,
            "chat.postMessage": Api.post_message,
            "chat.update": Api.update,
            "chat.postEphemeral": Api.post_ephemeral,
            "chat.delete": Api.delete,
            "conversations.open": Api.conversations_open,
            "users.info": Api.users_info,
            "users.lookupByEmail": Api.lookup_by_email,
            "users.list": Api.users_list,
            "views.open": Api.views_open,
            "views.update": Api.views_update,
            "views.publish": Api.views_publish,
            "files.getUploadURLExternal": Api.upload_url,
            "files.completeUploadExternal": Api.complete_upload,
        }

    def scopes_ok(self, method: str) -> None:
        needed = SCOPES.get(method)
        if needed is not None and needed not in self.ws.scopes:
            raise ApiError("missing_scope", needed=needed, provided=",".join(self.ws.scopes))

    # --- helpers ----------------------------------------------------------------------------

    def _channel_for_post(self, params: Params) -> str:
        """The channel to post in: an id, or a user id (Slack opens the DM)."""
        channel = str(params.get("channel") or "")
        if not channel:
            raise ApiError("channel_not_found")
        if channel in self.ws.users:
            return self.ws.dm(channel).id
        found = self.ws.channels.get(channel)
        if found is None:
            raise ApiError("channel_not_found")
        if found.is_im:
            assert found.im_user is not None
            if self.ws.users[found.im_user].deleted:
                raise ApiError("is_archived")  # a deactivated user's DM is archived
        elif not found.bot_member:
            raise ApiError("not_in_channel")
        return channel

    def _message_content(self, params: Params, *, limit: int) -> tuple[str, list[JsonDict]]:
        blocks = _json_param(params, "blocks")
        text = str(params.get("text") or "")
        if blocks is None or blocks == []:
            if not text and not params.get("attachments"):
                raise ApiError("no_text")
            blocks = []
        else:
            try:
                check_blocks(blocks, "message")
            except BlockError as exc:
                raise ApiError("invalid_blocks", response_metadata=_messages(exc)) from None
        if len(text) > limit:
            raise ApiError("msg_too_long")
        return text, blocks

    # --- methods ----------------------------------------------------------------------------

    async def auth_test(self, params: Params) -> JsonDict:
        ws = self.ws
        return {
            "url": f"https://{ws.team_domain}.slack.com/", "team": ws.team_domain.title(),
            "user": "amobridge", "team_id": ws.team_id, "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id, "is_enterprise_install": False,
        }  # fmt: skip

    async def post_message(self, params: Params) -> JsonDict:
        channel = self._channel_for_post(params)
        text, blocks = self._message_content(params, limit=MAX_TEXT)
        thread = params.get("thread_ts")
        message = self.ws.post(channel, text, blocks, thread_ts=str(thread) if thread else None)
        return {"channel": channel, "ts": message.ts, "message": message.to_json()}

    async def update(self, params: Params) -> JsonDict:
        channel = str(params.get("channel") or "")
        ts = str(params.get("ts") or "")
        if channel not in self.ws.channels:
            raise ApiError("channel_not_found")
        current = self.ws.message(channel, ts)
        if current is None or current.deleted:
            raise ApiError("message_not_found")
        if not current.from_bot:
            raise ApiError("cant_update_message")
        text, blocks = self._message_content(params, limit=MAX_UPDATE_TEXT)
        message = self.ws.update(channel, ts, text, blocks)
        return {"channel": channel, "ts": ts, "text": text, "message": message.to_json()}

    async def post_ephemeral(self, params: Params) -> JsonDict:
        channel = self._channel_for_post(params)
        user = str(params.get("user") or "")
        if user not in self.ws.users:
            raise ApiError("user_not_found")
        if user not in self.ws.channels[channel].members:
            raise ApiError("user_not_in_channel")
        text, blocks = self._message_content(params, limit=MAX_TEXT)
        note = self.ws.ephemeral(channel, user, text, blocks, "chat.postEphemeral")
        return {"message_ts": note.ts}

    async def delete(self, params: Params) -> JsonDict:
        channel = str(params.get("channel") or "")
        ts = str(params.get("ts") or "")
        current = self.ws.message(channel, ts)
        if current is None or current.deleted:
            raise ApiError("message_not_found")
        if not current.from_bot:
            raise ApiError("cant_delete_message")
        self.ws.delete(channel, ts)
        return {"channel": channel, "ts": ts}

    async def conversations_open(self, params: Params) -> JsonDict:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise ApiError("not_enough_users" if not users else "too_many_users")
        user = self.ws.users.get(users[0])
        if user is None:
            raise ApiError("user_not_found")
        if user.deleted:
            raise ApiError("user_disabled")
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        channel = self.ws.dm(user.id)
        return {"channel": {"id": channel.id, "is_im": True, "user": user.id}}

    def _user_json(self, user_id: str, *, with_locale: bool = False) -> JsonDict:
        user = self.ws.users.get(user_id)
        if user is None:
            raise ApiError("user_not_found")
        return user.to_json(
            self.ws.team_id, with_email="users:read.email" in self.ws.scopes,
            with_locale=with_locale,
        )  # fmt: skip

    async def users_info(self, params: Params) -> JsonDict:
        locale = str(params.get("include_locale") or "").lower() in ("true", "1")
        return {"user": self._user_json(str(params.get("user") or ""), with_locale=locale)}

    async def lookup_by_email(self, params: Params) -> JsonDict:
        wanted = str(params.get("email") or "").lower()
        for user in self.ws.users.values():
            if user.email and user.email.lower() == wanted and not user.deleted:
                return {"user": self._user_json(user.id)}
        raise ApiError("users_not_found")

    async def users_list(self, params: Params) -> JsonDict:
        limit = int(params.get("limit") or 0) or 1000
        start = int(params.get("cursor") or 0) if str(params.get("cursor") or "").isdigit() else 0
        ids = sorted(self.ws.users)
        page = ids[start : start + limit]
        following = start + limit if start + limit < len(ids) else None
        return {
            "members": [self._user_json(u) for u in page],
            "response_metadata": {"next_cursor": str(following) if following else ""},
        }

    def _view(self, params: Params) -> tuple[JsonDict, str]:
        view = _json_param(params, "view")
        try:
            kind = check_view(view)
        except BlockError as exc:
            raise ApiError("invalid_arguments", response_metadata=_messages(exc)) from None
        return view, kind

    def _record(self, view_id: str, user: str, view: JsonDict, kind: str) -> ViewRecord:
        digest = hashlib.sha1(f"{view_id}{time.monotonic_ns()}".encode()).hexdigest()[:16]
        record = ViewRecord(id=view_id, user=user, kind=kind, view=view,  # type: ignore[arg-type]
                            hash=f"{int(time.time())}.{digest}")  # fmt: skip
        self.ws.put_view(record)
        return record

    def _answer(self, record: ViewRecord) -> JsonDict:
        ws = self.ws
        return {"view": record.to_json(ws.team_id, ws.app_id, ws.bot_id)}

    async def views_open(self, params: Params) -> JsonDict:
        view, kind = self._view(params)
        if kind != "modal":
            raise ApiError("invalid_arguments")
        try:
            user = self.ws.use_trigger(str(params.get("trigger_id") or ""))
        except LookupError as exc:
            raise ApiError(str(exc.args[0])) from None
        return self._answer(self._record(self.ws.new_id("V"), user, view, kind))

    async def views_update(self, params: Params) -> JsonDict:
        view, kind = self._view(params)
        current = self.ws.view(str(params.get("view_id") or ""))
        if current is None:
            raise ApiError("not_found")
        wanted_hash = params.get("hash")
        if wanted_hash and wanted_hash != current.hash:
            raise ApiError("hash_conflict")
        return self._answer(self._record(current.id, current.user, view, kind))

    async def views_publish(self, params: Params) -> JsonDict:
        view, kind = self._view(params)
        user = str(params.get("user_id") or "")
        if kind != "home":
            raise ApiError("invalid_arguments")
        if user not in self.ws.users:
            raise ApiError("user_not_found")
        current = self.ws.homes.get(user)
        wanted_hash = params.get("hash")
        if current is not None and wanted_hash and wanted_hash != current.hash:
            raise ApiError("hash_conflict")
        view_id = current.id if current is not None else self.ws.new_id("V")
        return self._answer(self._record(view_id, user, view, kind))

    async def upload_url(self, params: Params) -> JsonDict:
        name = str(params.get("filename") or "")
        length = int(params.get("length") or 0)
        if not name or length <= 0:
            raise ApiError("invalid_arguments")
        file = UploadedFile(id=self.ws.new_id("F"), name=name, length=length)
        self.ws.files[file.id] = file
        return {"upload_url": f"{self._base_url()}/_upload/{file.id}", "file_id": file.id}

    async def complete_upload(self, params: Params) -> JsonDict:
        files = _json_param(params, "files")
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        shared: list[JsonDict] = []
        for item in files:
            upload = self.ws.files.get(str(item.get("id")))
            if upload is None or len(upload.data) != upload.length:
                raise ApiError("file_not_found" if upload is None else "file_upload_incomplete")
            upload.title = item.get("title") or upload.name
            shared.append(
                {
                    "id": upload.id,
                    "name": upload.name,
                    "title": upload.title,
                    "size": upload.length,
                }
            )
        channel = params.get("channel_id")
        if channel:
            target = self._channel_for_post({"channel": channel})
            for entry in shared:
                self.ws.files[entry["id"]].shared_in = target
            comment = str(params.get("initial_comment") or "")
            self.ws.post(target, comment, [], files=tuple(shared))
        return {"files": shared}
