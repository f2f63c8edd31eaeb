"""Fixtures: a served, seeded emulator, an admin httpx client, a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from sandbox.amocrm import AmoEmulator, seed_demo_account
from tests.sandbox.amocrm.helpers import Amo, FakeClock, Receiver


@pytest.fixture
async def amo() -> AsyncIterator[Amo]:
    """No pace limit here: the pace tests build their own emulator."""
    emu = AmoEmulator(subdomain="demo", rate_limit_per_s=None)
    ids = seed_demo_account(emu)
    emu.webhook_retry_delays_s = (0.01, 0.01, 0.01, 0.01)
    async with emu.serve() as base_url:
        yield Amo(emu, ids, base_url)


@pytest.fixture
async def api(amo: Amo) -> AsyncIterator[httpx.AsyncClient]:
    async with amo.client() as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    app = web.Application()
    app.router.add_post("/hook", recv.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recv.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield recv
    finally:
        if recv.gate is not None:
            recv.gate.set()
        await runner.cleanup()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
