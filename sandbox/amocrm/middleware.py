"""The gate every /api and /oauth2 request passes: request log, pace, faults, Bearer auth."""

from __future__ import annotations

import logging
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.amocrm.context import USER_ID, RequestRecord, context_of
from sandbox.amocrm.faults import apply_fault
from sandbox.amocrm.problems import problem, unauthorized

_log = logging.getLogger(__name__)


def _logged(path: str) -> bool:
    return path.startswith(("/api/", "/oauth2/"))


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _logged(request.path):
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400 or not request.path.startswith("/_control/"):
                raise
            return web.json_response({"error": exc.reason}, status=exc.status)
    ctx = context_of(request)
    arrived = ctx.clock()
    body = await request.text()
    response = await _answer(request, handler)
    response.headers["X-Request-Id"] = uuid.uuid4().hex
    ctx.request_log.append(
        RequestRecord(
            method=request.method,
            path=request.path,
            query=request.rel_url.raw_query_string,
            status=response.status,
            at=arrived,
            body=body,
        )
    )
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = context_of(request)
    is_api = request.path.startswith("/api/")
    # The verdict is taken on arrival; a "slow" fault must not move the request out of its window.
    admitted = ctx.pace.admit() if is_api else True
    fault = ctx.faults.take(request.path, request.method)
    if fault is not None:
        forced = await apply_fault(fault)
        if forced is not None:
            return forced
    if not admitted:
        return problem(429, "Too many requests")
    if is_api:
        token = request.headers.get("Authorization", "")
        scheme, _, value = token.partition(" ")
        user_id = ctx.tokens.authenticate(value.strip()) if scheme.lower() == "bearer" else None
        user = ctx.state.users.get(user_id) if user_id is not None else None
        if user is None or not user.is_active:
            return unauthorized()
        request[USER_ID] = user.id
    try:
        response = await handler(request)
        if fault is not None and fault.kind == "500-after":
            return problem(500, "Internal error")
        return response
    except web.HTTPException as exc:
        if exc.status >= 400:
            return problem(exc.status, exc.reason)
        raise
    except Exception:
        _log.exception("amoCRM emulator failed on %s %s", request.method, request.path)
        return problem(500, "Internal error")
