"""Digest lines: kept by compare-and-set (two replicas adding at once lose none), removed once
sent (keeping lines added meanwhile), and due when a digest moment has passed since the oldest
line."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.alerts.pending import DigestBook, PendingItem, last_moment, sent_key
from bot.store.sqlite import SqliteStore

MOSCOW = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=MOSCOW).timestamp()


def test_the_last_moment_is_this_mornings_or_yesterdays() -> None:
    assert last_moment(at(24, 9, 30), "Europe/Moscow", "09:00") == at(24, 9)
    assert last_moment(at(24, 8, 59), "Europe/Moscow", "09:00") == at(23, 9)
    assert last_moment(at(24, 9, 0), "Europe/Moscow", "09:00") == at(24, 9)


async def test_two_replicas_adding_at_once_lose_no_line_and_both_send_one_digest(
    tmp_path: Path,
) -> None:
    stores = [await SqliteStore.open(str(tmp_path / "s.db")) for _ in range(2)]
    try:
        books = [DigestBook(s) for s in stores]
        await asyncio.gather(*(
            books[n % 2].add("user:7", "en", PendingItem(at=int(at(24, 10)) + n, text=f"#{n}"))
            for n in range(40)
        ))  # fmt: skip

        assert await books[0].due("user:7", at(25, 9), "Europe/Moscow", "09:00")
        assert not await books[0].due("user:7", at(25, 8), "Europe/Moscow", "09:00")
        seen = await asyncio.gather(books[0].peek("user:7"), books[1].peek("user:7"))
        assert seen[0] is not None
        assert seen[0] == seen[1]
        assert sorted(i.text for i in seen[0].items) == sorted(f"#{n}" for n in range(40))
        assert sent_key("user:7", seen[0]) == sent_key("user:7", seen[1])  # one digest queued
        # A line that comes while the digest is queued waits for the next one.
        await books[1].add("user:7", "en", PendingItem(at=int(at(25, 9)), text="late"))
        await asyncio.gather(
            books[0].remove("user:7", seen[0]), books[1].remove("user:7", seen[0])
        )
        left = await books[1].peek("user:7")
        assert left is not None
        assert [i.text for i in left.items] == ["late"]
        await books[0].remove("user:7", left)
        assert await books[1].waiting() == []
    finally:
        for store in stores:
            await store.close()
