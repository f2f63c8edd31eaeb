"""Opening the store a URL names, with a failure that says what to fix.

The first thing ``amobridge run`` and ``check`` do; a missing directory, a folder this user may
not write in, or a Redis that does not answer are set-up mistakes, so the message names the path
or the host (never the URL, which may hold a password) and no traceback goes with it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from bot.store.protocol import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore


class StoreOpenError(Exception):
    """The store cannot be opened; the message says which and what to fix (no secret)."""


async def open_store(
    url: str, *, key_prefix: str = "amobridge:", long_queues: Collection[str] = ()
) -> Store:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``redis://host:port/db``;
    ``long_queues``: due queues that may hold a million entries (``RedisStore.open``)."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://").removeprefix("/")
        _check_sqlite_path(path)
        return await SqliteStore.open(path)
    if url.startswith(("redis://", "rediss://")):
        try:
            return await RedisStore.open(url, key_prefix=key_prefix, long_queues=long_queues)
        except (RedisError, OSError) as exc:
            parts = urlsplit(url)
            where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
            raise StoreOpenError(
                f"cannot reach Redis at {where} ({type(exc).__name__}): start it, or correct "
                "the host, port and password in the store URL"
            ) from None
    raise ValueError(f"unsupported store URL scheme: {url.split(':', 1)[0]!r}")


def _check_sqlite_path(path: str) -> None:
    """Raise ``StoreOpenError`` if the SQLite file cannot be opened for writing."""
    if path == ":memory:":
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StoreOpenError(
            f"cannot open the SQLite store {path}: the directory {folder} does not exist; "
            "create it, or point the store URL at one that does"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreOpenError(
            f"cannot open the SQLite store {path}: this user may not write in {folder}; "
            "give it write access there, or point the store URL elsewhere"
        )
    try:
        # Synchronously, once: a failure here is plain, where aiosqlite's worker thread, left
        # to clean up after a failed connect, can outlive the event loop and print a traceback.
        sqlite3.connect(path).close()
    except sqlite3.Error as exc:
        raise StoreOpenError(
            f"cannot open the SQLite store {path} ({exc}): is it a writable file, on a "
            "writable disk?"
        ) from None
