from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.store.sqlite import SqliteStore
from integrations.amocrm import AmoClient, LongLivedTokenAuth, NoPacing
from tests.integrations.amocrm.fakes import BASE_URL, FakeAmo


@pytest.fixture
def fake() -> FakeAmo:
    return FakeAmo()


@pytest.fixture
async def http(fake: FakeAmo) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        yield client


@pytest.fixture
def metrics() -> list[tuple[str, str, int]]:
    return []


@pytest.fixture
async def client(
    http: httpx.AsyncClient, metrics: list[tuple[str, str, int]]
) -> AsyncIterator[AmoClient]:
    async with AmoClient(
        BASE_URL,
        auth=LongLivedTokenAuth("long-lived"),
        pacer=NoPacing(),
        http=http,
        backoff_base_s=0.001,
        on_request=lambda m, p, s: metrics.append((m, p, s)),
    ) as amo:
        yield amo


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await SqliteStore.open(str(tmp_path / "s.db"))
    yield s
    await s.close()
