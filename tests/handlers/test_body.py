"""A body is read under its limit whatever its framing: Content-Length or chunked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from handlers.body import BodyTooLarge, read_limited

LIMIT = 1000


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def echo(request: web.Request) -> web.StreamResponse:
        try:
            body = await read_limited(request, LIMIT)
        except BodyTooLarge:
            return web.json_response({"error": "body too large"}, status=413)
        return web.json_response({"read": len(body)})

    app = web.Application()
    app.add_routes([web.post("/", echo)])
    async with TestServer(app, host="127.0.0.1") as running:
        yield str(running.make_url("/"))


async def chunks(size: int, piece: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, size, piece):
        yield b"x" * min(piece, size - start)


@pytest.mark.parametrize(("size", "status"), [(0, 200), (LIMIT, 200), (LIMIT + 1, 413)])
async def test_a_chunked_body_is_read_up_to_the_limit_and_refused_past_it(
    server: str, size: int, status: int
) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        chunked = await http.post(server, content=chunks(size))
        declared = await http.post(server, content=b"x" * size)
    assert "content-length" not in chunked.request.headers
    assert (chunked.status_code, declared.status_code) == (status, status)
    if status == 200:
        assert chunked.json() == declared.json() == {"read": size}
