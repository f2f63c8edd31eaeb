"""Waiting helpers for end-to-end tests: bounded waits on conditions, never fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from bot.wiring import Service
from sandbox.amocrm import AmoEmulator


class FakeClock:
    """Real time plus an offset: things still happen on their own, and a test can jump ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 15.0, what: str = "condition"
) -> None:
    """Wait for a condition the service must reach; fail (not hang) past ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def settled(service: Service, amo: AmoEmulator) -> None:
    """Every webhook delivered and every queued hint applied."""
    await amo.drain_webhooks()
    assert service.crm is not None
    inbox = service.crm.inbox

    async def empty() -> bool:
        return await inbox.depth() == 0

    await eventually(empty, what="the inbox to drain")
