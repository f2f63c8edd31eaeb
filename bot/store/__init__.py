"""Storage: the ``Store`` contract and a factory that opens the backend a URL names."""

from __future__ import annotations

from bot.store.protocol import Cached, DueEntry, DueItem, EntityChange, Store

__all__ = ["Cached", "DueEntry", "DueItem", "EntityChange", "Store", "open_store"]


async def open_store(url: str, *, key_prefix: str = "amobridge:") -> Store:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``redis://host:port/db``."""
    if url.startswith("sqlite://"):
        from bot.store.sqlite import SqliteStore

        return await SqliteStore.open(url.removeprefix("sqlite://").removeprefix("/"))
    if url.startswith(("redis://", "rediss://")):
        from bot.store.redis import RedisStore

        return await RedisStore.open(url, key_prefix=key_prefix)
    raise ValueError(f"unsupported store URL scheme: {url.split(':', 1)[0]!r}")
