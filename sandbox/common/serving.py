"""Serving an emulator's aiohttp app on a loopback port, and knowing where it is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from aiohttp import web

# Above Telegram's 50 MB document limit (and Slack's upload sizes), so that an oversized file
# reaches the emulator, which answers it as the service does, instead of aiohttp's 413.
MAX_UPLOAD_BYTES: Final = 60 * 1024 * 1024


@asynccontextmanager
async def serve_app(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``port=0``: any free port).

    A short shutdown grace: a request still held (a long poll, a "slow" fault) must not delay
    stopping.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        shown_host = f"[{host}]" if ":" in host else host
        yield f"http://{shown_host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class ServedAt:
    """An emulator's base URL, known only while its ``serve()`` block runs."""

    def __init__(self, handle: str) -> None:
        self._handle = handle  # how the docs name the emulator, for the error's hint
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError(
                f"the emulator is not serving: use `async with {self._handle}.serve()`"
            )
        return self._url

    @asynccontextmanager
    async def serve(self, app: web.Application, host: str, port: int) -> AsyncIterator[str]:
        """``serve_app``, the URL known meanwhile."""
        async with serve_app(app, host, port) as url:
            self._url = url
            try:
                yield url
            finally:
                self._url = None
