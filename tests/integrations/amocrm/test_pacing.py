from __future__ import annotations

import asyncio
import time

import pytest

from bot.store.sqlite import SqliteStore
from integrations.amocrm import NoPacing, StorePacer


async def test_it_spaces_turns_by_the_rate(store: SqliteStore) -> None:
    pacer = StorePacer(store, rate_per_s=50)
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait_turn() for _ in range(11)))
    # Eleven turns are ten intervals of 20 ms apart.
    assert time.monotonic() - started >= 0.19


async def test_two_pacers_on_one_store_share_the_pace(store: SqliteStore) -> None:
    a, b = StorePacer(store, rate_per_s=50), StorePacer(store, rate_per_s=50)
    started = time.monotonic()
    await asyncio.gather(*(p.wait_turn() for p in (a, b) * 5))
    assert time.monotonic() - started >= 0.17


async def test_separate_names_keep_separate_paces(store: SqliteStore) -> None:
    a = StorePacer(store, name="one", rate_per_s=2)
    b = StorePacer(store, name="two", rate_per_s=2)
    started = time.monotonic()
    await asyncio.gather(a.wait_turn(), b.wait_turn())
    assert time.monotonic() - started < 0.4


async def test_it_refuses_a_zero_rate(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        StorePacer(store, rate_per_s=0)


async def test_no_pacing_never_waits() -> None:
    await NoPacing().wait_turn()
