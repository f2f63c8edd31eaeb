"""Response URLs (``/_response/<key>``): how an app answers an interaction later, up to 5 times
within 30 minutes.

The JSON body carries ``text``/``blocks``, ``response_type`` ("ephemeral", the default, or
"in_channel"), ``replace_original`` and ``delete_original``. For a click on a message (or on an
ephemeral message), replace and delete act on that message; otherwise the answer is a new
ephemeral message to the person, or a message in the channel. Errors are HTTP 4xx with
``{"ok": false, "error": code}``, and do not use up the URL. A fault injected for the method
name "response_url" (and only one naming it) answers a call instead, as for the Web API.
"""

from __future__ import annotations

import json

from aiohttp import web

from sandbox.common.faults import hang_up
from sandbox.slack.blockkit import BlockError, check_blocks, with_ids
from sandbox.slack.context import context_of
from sandbox.slack.handles import ResponseTarget
from sandbox.slack.records import JsonDict
from sandbox.slack.state import Workspace


def _refused(status: int, code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code}, status=status)


def _act(ws: Workspace, target: ResponseTarget, body: JsonDict, blocks: list[JsonDict]) -> None:
    text = str(body.get("text") or "")
    delete, replace = bool(body.get("delete_original")), bool(body.get("replace_original"))
    if target.ephemeral_ts is not None and (delete or replace):
        note = ws.find_ephemeral(target.channel, target.user, target.ephemeral_ts)
        if note is not None and not note.deleted:
            if delete:
                ws.change_ephemeral(note, note.text, note.blocks, deleted=True)
            else:
                ws.change_ephemeral(note, text, blocks)
        return
    if target.message_ts is not None and (delete or replace):
        message = ws.message(target.channel, target.message_ts)
        if message is not None and not message.deleted and message.from_bot:
            if delete:
                ws.delete(target.channel, target.message_ts)
            else:
                ws.update(target.channel, target.message_ts, text, blocks)
        return
    if delete:
        return
    if body.get("response_type") == "in_channel":
        thread = body.get("thread_ts")
        ws.post(target.channel, text, blocks, thread_ts=str(thread) if thread else None)
    else:
        ws.ephemeral(target.channel, target.user, text, blocks, "response_url")


async def _fault(request: web.Request) -> web.StreamResponse | None:
    fault = context_of(request).faults.take_first(lambda f: f.method == "response_url")
    if fault is None:
        return None
    if fault.kind == "429":
        answer = web.json_response({"ok": False, "error": "ratelimited"}, status=429)
        answer.headers["Retry-After"] = str(fault.retry_after)
        return answer
    if fault.kind in ("500", "503"):
        return _refused(int(fault.kind), "internal_error")
    if fault.kind == "timeout":
        return await hang_up(request, fault.delay_s)
    return _refused(400, fault.kind)


async def response_endpoint(request: web.Request) -> web.StreamResponse:
    ws = context_of(request).ws
    faulted = await _fault(request)
    if faulted is not None:
        return faulted
    try:
        target = ws.responses.target(request.match_info["key"])
    except LookupError as exc:
        return _refused(404, str(exc.args[0]))
    try:
        body = json.loads(await request.read())
    except ValueError:
        return _refused(400, "invalid_payload")
    if not isinstance(body, dict):
        return _refused(400, "invalid_payload")
    blocks = body.get("blocks") or []
    try:
        check_blocks(blocks, "message")
    except BlockError:
        return _refused(400, "invalid_blocks")
    if not (body.get("text") or blocks or body.get("delete_original")):
        return _refused(400, "no_text")
    target.uses += 1
    _act(ws, target, body, with_ids(blocks))
    return web.json_response({"ok": True})
