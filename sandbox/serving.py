"""Serving an emulator's aiohttp app on a loopback port; shared by every emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


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
