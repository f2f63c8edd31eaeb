"""A periodic job and a drain loop during an amoCRM outage: one line when it starts, one when it
ends, never a traceback per tick; a bug still logs its traceback every time."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.store import open_store
from integrations.amocrm import AmoServerError
from scheduler.runner import DrainLoop
from scheduler.singleton import SingletonJob


def outage() -> AmoServerError:
    return AmoServerError("GET /api/v4/events -> 503 (Service Unavailable)", status=503)


def said(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, bool]]:
    return [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]


async def test_a_job_during_an_outage_says_so_once_and_when_it_is_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scheduler")
    answers: list[Exception | None] = [outage(), outage(), outage(), None, None, KeyError("x")]

    async def poll() -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    store = await open_store(f"sqlite:///{tmp_path}/jobs.db")  # its lease is a real one
    try:
        job = SingletonJob("amocrm-events-poll", poll, store=store, owner="me", ttl_s=30)
        for _ in range(6):
            assert await job.run()
    finally:
        await store.close()
    assert said(caplog) == [
        ("WARNING", "job amocrm-events-poll: held up by amoCRM's answer GET /api/v4/events -> "
                    "503 (Service Unavailable) (AmoServerError); said once until it changes",
         False),
        ("INFO", "job amocrm-events-poll: working again", False),
        ("ERROR", "job amocrm-events-poll failed", True),
    ]  # fmt: skip


async def test_a_drain_loop_during_an_outage_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = 0
    done = asyncio.Event()

    async def drain_once() -> int:
        nonlocal ticks
        ticks += 1
        if ticks >= 5:
            done.set()
        raise outage()

    async def wait(_: float) -> None:
        await asyncio.sleep(0)

    loop = DrainLoop("listeners", drain_once, wait)
    loop.start()
    await asyncio.wait_for(done.wait(), timeout=10)
    await loop.stop()
    assert [(level, exc) for level, _, exc in said(caplog)] == [("WARNING", False)]


async def test_a_drain_loop_whose_wait_fails_pauses_and_goes_on() -> None:
    """The wait asks the store when the next item is due: a store restarting under it must not
    end the loop (it did, and the reminders stopped until a restart)."""
    drained = 0
    done = asyncio.Event()

    async def drain_once() -> int:
        nonlocal drained
        drained += 1
        if drained >= 3:
            done.set()
        return 0

    async def wait(_: float) -> None:
        raise ConnectionError("store unreachable")

    loop = DrainLoop("reminders", drain_once, wait, idle_s=0.01)
    loop.start()
    await asyncio.wait_for(done.wait(), timeout=10)
    await loop.stop()
