"""The HTTP side Slack shows an app: ``/api/<method>``, response URLs and file uploads."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.slack.api import Answer, Api, ApiError
from sandbox.slack.blockkit import BlockError, check_blocks
from sandbox.slack.faults import Faults
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.records import RequestRecord
from sandbox.slack.state import RESPONSE_URL_TTL_S, RESPONSE_URL_USES, Workspace


@dataclass
class Context:
    ws: Workspace
    api: Api
    limiter: RateLimiter
    faults: Faults
    request_log: list[RequestRecord] = field(default_factory=list)


CONTEXT = web.AppKey("slack_context", Context)


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON inputs merged, as Slack accepts every one of them."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        kind = request.content_type
        if kind == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise ApiError("invalid_json") from None
            if isinstance(body, dict):
                params.update(body)
        elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _token(request: web.Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = params.pop("token", None)
    return str(token) if token else None


async def api_endpoint(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    method = request.match_info["method"]
    params: dict[str, Any] = {}
    try:
        params = await _params(request)
        answer = await _call(ctx, method, params, _token(request, params))
    except ApiError as exc:
        answer = Answer({"ok": False, "error": exc.code, **exc.extra})
    body = answer.body
    error = None if body.get("ok") else str(body.get("error"))
    logged = {k: v for k, v in params.items() if k not in ("token",)}
    ctx.request_log.append(RequestRecord(method, logged, answer.status, error, time.time()))
    headers = dict(answer.headers)
    if method == "auth.test" and body.get("ok"):
        headers["x-oauth-scopes"] = ",".join(ctx.ws.scopes)
    return web.json_response(body, status=answer.status, headers=headers)


async def _call(ctx: Context, method: str, params: dict[str, Any], token: str | None) -> Answer:
    handler = ctx.api.methods.get(method)
    if handler is None:
        raise ApiError("unknown_method")
    if token is None:
        raise ApiError("not_authed")
    if token != ctx.ws.bot_token:
        raise ApiError("invalid_auth")
    fault = ctx.faults.take(method)
    if fault is not None:
        if fault.kind == "429":
            return Answer({"ok": False, "error": "ratelimited"}, 429,
                          {"Retry-After": str(fault.retry_after)})  # fmt: skip
        if fault.kind in ("500", "503"):
            return Answer({"ok": False, "error": "internal_error"}, int(fault.kind))
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay_s)
            raise ApiError("request_timeout")
        raise ApiError(fault.kind)
    ctx.api.scopes_ok(method)
    channel = str(params.get("channel") or "") or None
    if channel in ctx.ws.users:  # a user id stands for the DM with them
        channel = ctx.ws.dm(channel).id
    retry_after = ctx.limiter.check(method, channel)
    if retry_after is not None:
        return Answer({"ok": False, "error": "ratelimited"}, 429,
                      {"Retry-After": str(retry_after)})  # fmt: skip
    result = await ctx.api.methods[method](ctx.api, params)
    return Answer({"ok": True, **result})


async def response_endpoint(request: web.Request) -> web.StreamResponse:
    """A response_url: up to 5 answers within 30 minutes of the interaction."""
    ctx = request.app[CONTEXT]
    target = ctx.ws.responses.get(request.match_info["key"])
    if target is None:
        return web.Response(status=404, text="invalid_token")
    if time.monotonic() - target.created > RESPONSE_URL_TTL_S:
        return web.Response(status=404, text="expired_url")
    if target.uses >= RESPONSE_URL_USES:
        return web.Response(status=404, text="used_url")
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(body, dict):
        return web.Response(status=400, text="invalid_payload")
    text = str(body.get("text") or "")
    blocks = body.get("blocks") or []
    if not (text or blocks or body.get("delete_original")):
        return web.Response(status=400, text="no_text")
    if blocks:
        try:
            check_blocks(blocks, "message")
        except BlockError:
            return web.Response(status=400, text="invalid_blocks")
    target.uses += 1
    source = target.message_ts
    if source is not None and body.get("delete_original"):
        ctx.ws.delete(target.channel, source)
    elif source is not None and body.get("replace_original"):
        current = ctx.ws.message(target.channel, source)
        if current is not None and current.from_bot:
            ctx.ws.update(target.channel, source, text, blocks)
    elif body.get("response_type") == "in_channel":
        ctx.ws.post(target.channel, text, blocks)
    else:
        ctx.ws.ephemeral(target.channel, target.user, text, blocks, "response_url")
    return web.Response(status=200, text="ok")


async def upload_endpoint(request: web.Request) -> web.StreamResponse:
    """Where files.getUploadURLExternal points: the file's bytes, raw or as a form field."""
    ctx = request.app[CONTEXT]
    file = ctx.ws.files.get(request.match_info["file_id"])
    if file is None:
        return web.Response(status=404, text="file_not_found")
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = next(iter(form.values()), None)
        data = part.file.read() if isinstance(part, web.FileField) else b""
    else:
        data = await request.read()
    file.data = data
    return web.Response(status=200, text=f"OK - {len(data)}")
