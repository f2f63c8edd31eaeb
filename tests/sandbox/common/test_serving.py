from __future__ import annotations

import pytest
from aiohttp import ClientSession, web

from sandbox.common.serving import Emulator


async def _hello(request: web.Request) -> web.StreamResponse:
    return web.Response(text="hello")


class _Hello(Emulator):
    handle_name = "hello"

    def __init__(self) -> None:
        self.events: list[str] = []

    def make_app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/", _hello)])
        return app

    async def _started(self, url: str) -> None:
        self.events.append(f"started {url == self.base_url}")

    async def _stopping(self) -> None:
        self.events.append("stopping")


async def test_the_base_url_is_known_only_while_serving() -> None:
    emulator = _Hello()
    with pytest.raises(RuntimeError, match=r"use `async with hello.serve\(\)`"):
        _ = emulator.base_url
    async with emulator.serve() as url:
        assert emulator.base_url == url
        assert url.startswith("http://127.0.0.1:")
        async with ClientSession() as session, session.get(url + "/") as answer:
            assert await answer.text() == "hello"
    assert emulator.events == ["started True", "stopping"]
    with pytest.raises(RuntimeError):
        _ = emulator.base_url
