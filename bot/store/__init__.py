"""Storage: the ``Store`` contract and a factory that opens the backend a URL names."""

from __future__ import annotations

from bot.store.due import work_due
from bot.store.outage import FullStoreLog
from bot.store.protocol import Cached, DueEntry, DueItem, EntityChange, Store, StoreFull
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

__all__ = [
    "Cached", "DueEntry", "DueItem", "EntityChange", "FullStoreLog", "RedisStore", "SqliteStore",
    "Store", "StoreFull", "open_store", "work_due",
]  # fmt: skip


async def open_store(url: str, *, key_prefix: str = "amobridge:") -> Store:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``redis://host:port/db``."""
    if url.startswith("sqlite://"):
        return await SqliteStore.open(url.removeprefix("sqlite://").removeprefix("/"))
    if url.startswith(("redis://", "rediss://")):
        return await RedisStore.open(url, key_prefix=key_prefix)
    raise ValueError(f"unsupported store URL scheme: {url.split(':', 1)[0]!r}")
