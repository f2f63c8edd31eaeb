"""``/api/<method>``: the Web API as Slack serves it, and the upload URLs it hands out.

A call is checked in Slack's order: the method exists, the token is given and valid, then (an
injected fault aside) the token has the method's scope and the call is within its rate limit;
only then does the method run. Every answer but a 429 or an injected 5xx is HTTP 200, with
``ok`` saying whether it worked. Every call is logged, the token left out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from aiohttp import web

from sandbox.common.faults import MethodFault, hang_up
from sandbox.slack.api import FORM_ONLY, METHODS, SCOPES
from sandbox.slack.context import Context, context_of
from sandbox.slack.errors import ApiError, error_body, missing_scope
from sandbox.slack.params import Params, read_params
from sandbox.slack.records import JsonDict, RequestRecord

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    body: JsonDict
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class _Hold(Exception):
    """A "timeout" fault: hold the call, then drop the connection without an answer."""

    def __init__(self, delay_s: float) -> None:
        super().__init__("timeout")
        self.delay_s = delay_s


def _ratelimited(retry_after: int) -> Answer:
    return Answer({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry_after)})


def _fault_answer(fault: MethodFault) -> Answer:
    if fault.kind == "429":
        return _ratelimited(fault.retry_after)
    if fault.kind == "500":
        return Answer({"ok": False, "error": "internal_error"}, 500)
    if fault.kind == "503":
        return Answer({"ok": False, "error": "service_unavailable"}, 503)
    if fault.kind == "timeout":
        raise _Hold(fault.delay_s)
    raise ApiError(fault.kind)


async def _call(ctx: Context, method: str, params: Params, token: str | None) -> Answer:
    if token is None:
        raise ApiError("not_authed")
    if token != ctx.ws.bot_token:
        raise ApiError("invalid_auth")
    fault = ctx.faults.take(method)
    if fault is not None and fault.kind != "drop-after":
        return _fault_answer(fault)
    needed = SCOPES.get(method)
    if needed is not None and needed not in ctx.ws.scopes:
        raise missing_scope(needed, ctx.ws.scopes)
    channel = None
    if method == "chat.postMessage":
        found = ctx.ws.resolve(params.string("channel"))
        channel = found.id if found is not None else params.string("channel")
    retry_after = ctx.limiter.check(method, channel)
    if retry_after is not None:
        return _ratelimited(retry_after)
    try:
        result = await METHODS[method](ctx, params)
    except ApiError:
        raise
    except Exception:
        _log.exception("the Slack emulator failed on %s", method)
        return Answer({"ok": False, "error": "internal_error"}, 500)
    if fault is not None:  # "drop-after": done, and the answer lost on the way back
        raise _Hold(fault.delay_s)
    return Answer({"ok": True, **result})


def _scope_headers(ctx: Context, method: str) -> dict[str, str]:
    """Slack tells an authenticated caller the token's scopes and the ones the method takes."""
    return {"x-oauth-scopes": ",".join(ctx.ws.scopes),
            "x-accepted-oauth-scopes": SCOPES.get(method, "")}  # fmt: skip


async def api_endpoint(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    method = request.match_info["method"]
    at = time.time()
    params = Params({})
    token: str | None = None
    try:
        if method not in METHODS:
            raise ApiError("unknown_method", req_method=method)
        params, token = await read_params(request, takes_json=method not in FORM_ONLY)
        answer = await _call(ctx, method, params, token)
    except ApiError as exc:
        answer = Answer(error_body(exc))
    except _Hold as hold:
        dropped = await hang_up(request, hold.delay_s)
        ctx.request_log.append(RequestRecord(method, params.logged(), 0, "timeout", at))
        return dropped
    body = answer.body
    error = None if body.get("ok") else str(body.get("error"))
    ctx.request_log.append(RequestRecord(method, params.logged(), answer.status, error, at))
    headers = dict(answer.headers)
    if token == ctx.ws.bot_token:
        headers |= _scope_headers(ctx, method)
    return web.json_response(body, status=answer.status, headers=headers)


async def upload_endpoint(request: web.Request) -> web.StreamResponse:
    """Where files.getUploadURLExternal points: the file's bytes, raw or as a form's file."""
    upload = context_of(request).ws.uploads.get(request.match_info["file_id"])
    if upload is None:
        return web.Response(status=404, text="file_not_found")
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
        data = part.file.read() if part is not None else b""
    else:
        data = await request.read()
    upload.data = data
    return web.Response(status=200, text=f"OK - {len(data)}")
