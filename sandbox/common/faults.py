"""Faults injected on cue: each answers the next ``count`` calls it matches, oldest first. Each
emulator says which faults its service can have and what they answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

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


@dataclass(frozen=True, slots=True)
class MethodFault:
    """A fault of an API called by method name (Telegram's, Slack's)."""

    kind: str
    method: str | None  # None matches every method
    retry_after: int  # for "429"
    delay_s: float  # for "timeout": how long the call is held before the connection drops


class MethodFaults(FaultQueue[MethodFault]):
    """Faults by method name. A service says whether it takes method names in any case
    (``fold_case``), how long a "timeout" holds by default, and which faults it refuses."""

    fold_case: ClassVar[bool] = False
    default_delay_s: ClassVar[float] = 1.0

    def _name(self, method: str) -> str:
        return method.lower() if self.fold_case else method

    def check(self, kind: str, count: int, retry_after: int, delay_s: float) -> None:
        """ValueError for a fault the service's emulator does not take."""

    def add(
        self,
        kind: str,
        count: int = 1,
        method: str | None = None,
        *,
        retry_after: int = 1,
        delay_s: float | None = None,
    ) -> None:
        """Queue a fault for the next ``count`` calls (of ``method``, or of any); the faulted
        call is not carried out. "429" answers with ``retry_after``; "timeout" holds the call
        ``delay_s`` (None: the service's default) and drops the connection unanswered."""
        hold_s = self.default_delay_s if delay_s is None else delay_s
        self.check(kind, count, retry_after, hold_s)
        name = self._name(method) if method else None
        self.push(MethodFault(kind, name, retry_after, hold_s), count)

    def take(self, method: str) -> MethodFault | None:
        """Use up one answer of the oldest fault matching ``method``."""
        name = self._name(method)
        return self.take_first(lambda fault: fault.method in (None, name))


async def hang_up(request: web.Request, delay_s: float) -> web.Response:
    """An injected "timeout": hold the call ``delay_s``, then drop the connection unanswered
    (the client sees a dropped line; the 504 returned never reaches it)."""
    await asyncio.sleep(delay_s)
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=504)
