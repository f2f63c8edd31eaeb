"""The 7 requests per second pace: a sliding one-second window over /api/v4 only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.amocrm import AmoEmulator, seed_demo_account
from tests.sandbox.amocrm.helpers import Amo


@pytest.fixture
async def paced() -> AsyncIterator[Amo]:
    emu = AmoEmulator(rate_limit_per_s=7.0)
    ids = seed_demo_account(emu)
    async with emu.serve() as base_url:
        yield Amo(emu, ids, base_url)


async def _burst(client: httpx.AsyncClient, path: str, count: int) -> tuple[list[int], float]:
    started = time.monotonic()
    answers = await asyncio.gather(*(client.get(path) for _ in range(count)))
    return [a.status_code for a in answers], time.monotonic() - started


async def test_it_refuses_the_eighth_request_within_a_second(paced: Amo) -> None:
    async with paced.client() as api:
        statuses, elapsed = await _burst(api, "/api/v4/account", 10)
        assert elapsed < 1.0, "the burst was too slow to test the window"
        assert statuses.count(200) == 7
        assert statuses.count(429) == 3
        refused = await api.get("/api/v4/account")
    assert refused.status_code == 429
    assert "retry-after" not in refused.headers
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429


async def test_it_admits_requests_paced_at_six_per_second(paced: Amo) -> None:
    statuses = []
    async with paced.client() as api:
        start = time.monotonic()
        for index in range(13):
            await asyncio.sleep(max(0.0, start + index / 6 - time.monotonic()))
            statuses.append((await api.get("/api/v4/account")).status_code)
    assert statuses == [200] * 13


async def test_it_admits_again_once_the_window_has_passed(paced: Amo) -> None:
    async with paced.client() as api:
        statuses, _ = await _burst(api, "/api/v4/account", 9)
        assert 429 in statuses
        last = time.monotonic()
        await asyncio.sleep(max(0.0, last + 1.05 - time.monotonic()))
        assert (await api.get("/api/v4/account")).status_code == 200


async def test_it_does_not_pace_oauth_or_control(paced: Amo) -> None:
    async with httpx.AsyncClient(base_url=paced.base_url) as raw:
        control = await asyncio.gather(*(raw.get("/_control/state") for _ in range(10)))
        oauth = await asyncio.gather(
            *(raw.post("/oauth2/access_token", json={"grant_type": "x"}) for _ in range(10))
        )
    assert {a.status_code for a in control} == {200}
    assert {a.status_code for a in oauth} == {400}


async def test_it_can_be_switched_off(paced: Amo) -> None:
    paced.emu.rate_limit_per_s = None
    async with paced.client() as api:
        statuses, _ = await _burst(api, "/api/v4/account", 12)
    assert statuses == [200] * 12
