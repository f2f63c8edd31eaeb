"""The HTTP face of the Bot API: `/bot<token>/<method>`, plus methods returned in webhook replies.

Every call is logged; injected faults are applied before the method runs (a faulted call has no
effect); the envelope's `error_code` is always the HTTP status.
"""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Final

from aiohttp import web

from sandbox.common.faults import MethodFault, hang_up
from sandbox.telegram.api import METHODS
from sandbox.telegram.api.common import Described
from sandbox.telegram.context import BotContext, context_of
from sandbox.telegram.errors import (
    ApiError,
    error_body,
    not_found,
    ok_body,
    too_many_requests,
    unauthorized,
)
from sandbox.telegram.params import Params, read_params
from sandbox.telegram.records import JsonDict, RequestRecord

_log = logging.getLogger(__name__)
_FAULT_TEXT: Final = MappingProxyType(
    {"500": (500, "Internal Server Error"), "502": (502, "Bad Gateway")}
)


async def call(ctx: BotContext, method: str, params: Params) -> tuple[int, JsonDict]:
    """(HTTP status, envelope) for one method call."""
    handler = METHODS.get(method.lower())
    try:
        if handler is None:
            raise not_found()
        result = await handler(ctx, params)
    except ApiError as exc:
        return exc.code, error_body(exc)
    except Exception:
        _log.exception("Telegram emulator failed on %s", method)
        return 500, error_body(ApiError(500, "Internal Server Error"))
    if isinstance(result, Described):
        return 200, ok_body(result.result, result.description)
    return 200, ok_body(result)


def _log_call(
    ctx: BotContext, method: str, params: Params | None, status: int, body: JsonDict, at: float
) -> None:
    description = body.get("description") if not body.get("ok") else None
    ctx.request_log.append(
        RequestRecord(
            method=method,
            chat_id=params.chat_hint() if params is not None else None,
            status=status,
            at=at,
            description=description if isinstance(description, str) else None,
        )
    )


def _fault_answer(fault: MethodFault) -> tuple[int, JsonDict]:
    if fault.kind == "429":
        error = too_many_requests(fault.retry_after)
    else:
        code, text = _FAULT_TEXT[fault.kind]
        error = ApiError(code, text)
    return error.code, error_body(error)


async def bot_endpoint(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    method = request.match_info["method"]
    at = ctx.state.now()
    params: Params | None = None
    if request.match_info["token"] != ctx.state.bot.token:
        status, body = 401, error_body(unauthorized())
    elif method.lower() not in METHODS:
        status, body = 404, error_body(not_found())
    else:
        try:
            params = await read_params(request.headers, request.content, request.query)
        except ApiError as exc:
            status, body = exc.code, error_body(exc)
        else:
            fault = ctx.faults.take(method)
            if fault is not None and fault.kind == "timeout":
                dropped = await hang_up(request, fault.delay_s)
                _log_call(ctx, method, params, 0, {"ok": False, "description": "timeout"}, at)
                return dropped
            if fault is not None:
                status, body = _fault_answer(fault)
            else:
                status, body = await call(ctx, method, params)
    _log_call(ctx, method, params, status, body, at)
    return web.json_response(body, status=status)


async def run_webhook_reply(ctx: BotContext, params: Params) -> None:
    """Carry out a method a webhook returned in its answer (its result goes nowhere)."""
    method = params.text("method") or ""
    at = ctx.state.now()
    status, body = await call(ctx, method, params)
    _log_call(ctx, method, params, status, body, at)


async def file_endpoint(request: web.Request) -> web.StreamResponse:
    """``GET /file/bot<token>/<file_path>``: a file's bytes, as getFile pointed to them. A wrong
    token or path is a bare 404 (Telegram answers file downloads without the JSON envelope)."""
    ctx = context_of(request)
    path = request.match_info["path"]
    if request.match_info["token"] != ctx.state.bot.token:
        return web.Response(status=404, text="Not Found")
    for record in ctx.state.files.values():
        if record.file_path == path:
            return web.Response(body=record.data, content_type="application/octet-stream")
    return web.Response(status=404, text="Not Found")
