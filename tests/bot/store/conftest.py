"""Store fixtures: a test taking ``store`` or ``open_backend`` runs on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.store import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

Opener = Callable[[], Awaitable[Store]]


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(kind, where, prefix). The Redis server is only started when a Redis test runs."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "store.db"), ""
    url: str = request.getfixturevalue("redis_server_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return "redis", url, prefix


@pytest.fixture
async def open_backend(backend: tuple[str, str, str]) -> AsyncIterator[Opener]:
    """Opens store instances that share one backing (one file, or one server and prefix)."""
    kind, where, prefix = backend
    opened: list[Store] = []

    async def opener() -> Store:
        store: Store
        if kind == "sqlite":
            store = await SqliteStore.open(where)
        else:
            # "q" kept in buckets, as the service keeps its reminders; every other queue on the
            # side: the tests see both forms of the due index.
            store = await RedisStore.open(where, key_prefix=prefix, long_queues=["q"])
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()
    if kind == "redis":
        # A shared server (AMOBRIDGE_TEST_REDIS_URL) keeps nothing of this test.
        client = Redis.from_url(where, decode_responses=True)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def store(open_backend: Opener) -> Store:
    return await open_backend()
