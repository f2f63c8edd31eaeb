"""Serving an emulator's aiohttp app on a loopback port, and knowing where it is served."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar, Final

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


class Emulator(ABC):
    """What every emulator handle has: its aiohttp app (``make_app``), served on a loopback port
    by ``serve()``, and ``base_url`` while it is. A subclass starts and stops its own background
    work (webhook deliveries, held long polls) in ``_started`` and ``_stopping``."""

    # How the docs name a handle, for the hint when it is used before it serves.
    handle_name: ClassVar[str] = "emulator"
    _served_url: str | None = None  # the instance's own, set while serving

    @abstractmethod
    def make_app(self) -> web.Application: ...

    @property
    def base_url(self) -> str:
        """Where the emulator is served ("http://127.0.0.1:PORT"); RuntimeError if it is not."""
        if self._served_url is None:
            raise RuntimeError(
                f"the emulator is not serving: use `async with {self.handle_name}.serve()`"
            )
        return self._served_url

    # Hooks, not abstract: an emulator with nothing to start or stop leaves them out.
    async def _started(self, url: str) -> None:  # noqa: B027
        """Called once the server listens, before ``serve()`` yields."""

    async def _stopping(self) -> None:  # noqa: B027
        """Called when the ``serve()`` block ends, before the server stops."""

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve until the block ends; yields the base URL."""
        async with serve_app(self.make_app(), host, port) as url:
            self._served_url = url
            try:
                await self._started(url)
                yield url
            finally:
                await self._stopping()
                self._served_url = None
