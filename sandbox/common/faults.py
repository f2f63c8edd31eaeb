"""Faults injected on cue: each answers the next ``count`` calls it matches, oldest first. Each
emulator says which faults its service can have and what they answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from aiohttp import web

F = TypeVar("F")


def checked_kind(kind: str, kinds: Iterable[str]) -> str:
    """``kind`` if it is one of ``kinds``, else ValueError naming them."""
    known = tuple(kinds)
    if kind not in known:
        raise ValueError(f"unknown fault kind {kind!r}; one of {known}")
    return kind


class FaultQueue(Generic[F]):
    """The faults waiting for their calls, each with the number of calls it still answers."""

    def __init__(self) -> None:
        self._pending: list[tuple[F, int]] = []
        self.injected = 0  # calls a fault answered, for the emulators' stats

    def push(self, fault: F, count: int) -> None:
        self._pending.append((fault, count))

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> int:
        return sum(count for _, count in self._pending)

    def take_first(self, matches: Callable[[F], bool]) -> F | None:
        """Use up one answer of the oldest fault that ``matches``."""
        for index, (fault, count) in enumerate(self._pending):
            if matches(fault):
                if count == 1:
                    del self._pending[index]
                else:
                    self._pending[index] = (fault, count - 1)
                self.injected += 1
                return fault
        return None


async def hang_up(request: web.Request, delay_s: float) -> web.Response:
    """An injected "timeout": hold the call ``delay_s``, then drop the connection unanswered
    (the client sees a dropped line; the 504 returned never reaches it)."""
    await asyncio.sleep(delay_s)
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=504)
