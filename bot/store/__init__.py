"""Storage: the ``Store`` contract and a factory that opens the backend a URL names."""

from __future__ import annotations

from bot.store.due import (
    CLAIM_LEASE_S,
    ClaimedAhead,
    ClaimKeeper,
    Drawn,
    Failed,
    keep_claims,
    work_due,
    work_due_together,
)
from bot.store.grouped import GroupCommit, GroupedOnce, WriteInterrupted
from bot.store.opening import StoreOpenError, open_store
from bot.store.protocol import (
    Cached,
    DueEntry,
    DueItem,
    EntityChange,
    OncePut,
    Store,
    StoreFull,
)
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

__all__ = [
    "CLAIM_LEASE_S", "Cached", "ClaimKeeper", "ClaimedAhead", "Drawn", "DueEntry",
    "DueItem", "EntityChange", "Failed", "GroupCommit", "GroupedOnce", "OncePut", "RedisStore",
    "SqliteStore", "Store", "StoreFull", "StoreOpenError", "WriteInterrupted", "keep_claims",
    "open_store", "work_due", "work_due_together",
]  # fmt: skip
