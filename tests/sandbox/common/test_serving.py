from __future__ import annotations

import pytest
from aiohttp import ClientSession, web

from sandbox.common.serving import ServedAt


async def _hello(request: web.Request) -> web.StreamResponse:
    return web.Response(text="hello")


async def test_the_url_is_known_only_while_serving() -> None:
    served = ServedAt("emu")
    app = web.Application()
    app.add_routes([web.get("/", _hello)])
    with pytest.raises(RuntimeError, match=r"use `async with emu.serve\(\)`"):
        _ = served.url
    async with served.serve(app, "127.0.0.1", 0) as url:
        assert served.url == url
        assert url.startswith("http://127.0.0.1:")
        async with ClientSession() as session, session.get(url + "/") as answer:
            assert await answer.text() == "hello"
    with pytest.raises(RuntimeError):
        _ = served.url
