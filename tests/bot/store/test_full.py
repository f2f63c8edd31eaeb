"""SQLite with no room left (its file capped at its size with ``PRAGMA max_page_count``, as a
full disk): writes raise ``StoreFull`` and write nothing, reads still work, and writing works
again once the cap is lifted. A loop that meets it says so once, without a traceback."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from bot.core import FailureNote
from bot.store import SqliteStore, StoreFull


async def fill(store: SqliteStore) -> None:
    for _ in range(100_000):
        await store.put_doc("filler", uuid.uuid4().hex, "x" * 4000)


async def test_a_full_file_refuses_writes_keeps_reads_and_recovers(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "full.db"))
    try:
        await store.put_doc("kept", "a", "before")
        await store.cap_size(0)
        with pytest.raises(StoreFull, match="full"):
            await fill(store)
        with pytest.raises(StoreFull):
            await store.put_due("inbox", "hint", 0.0, "x" * 4000)

        assert await store.get_doc("kept", "a") == "before"
        assert await store.count_due("inbox") == 0  # the refused write left nothing
        await store.cap_size(None)
        await store.put_due("inbox", "hint", 0.0, "x" * 4000)
        assert await store.count_due("inbox") == 1
    finally:
        await store.close()


def test_a_loop_says_the_store_is_full_once_and_when_it_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    said = FailureNote(logging.getLogger("test"), "inbox")
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            said.failed(StoreFull("SQLite: database or disk is full"))
        said.worked()
        said.worked()

    assert [(r.levelname, "full" in r.getMessage()) for r in caplog.records] == [
        ("WARNING", True), ("INFO", False),
    ]  # fmt: skip
    assert not [r for r in caplog.records if r.exc_info]
