"""Events per key (a chat's bot messages, a user's ephemerals), read like a queue; shared by
every emulator.

A wait returns the first event after the last one it returned that matches, so an answer that
arrived before the wait began is still seen (no race between "act" and "wait").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from sandbox.common.handle import OfHandle

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)
T_co = TypeVar("T_co", covariant=True)


class Watch(Generic[K, T]):
    """``what`` names the events in a timeout's message ("bot message")."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._events: dict[K, list[T]] = {}
        self._cursor: dict[K, int] = {}
        self._waiters: set[asyncio.Future[None]] = set()

    def record(self, key: K, event: T) -> None:
        self._events.setdefault(key, []).append(event)
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)

    def _match(self, key: K, predicate: Callable[[T], bool] | None) -> T | None:
        events = self._events.get(key, [])
        for index in range(self._cursor.get(key, 0), len(events)):
            if predicate is None or predicate(events[index]):
                self._cursor[key] = index + 1
                return events[index]
        return None

    async def next(self, key: K, predicate: Callable[[T], bool] | None, timeout_s: float) -> T:
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    found = self._match(key, predicate)
                    if found is not None:
                        return found
                    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    self._waiters.add(waiter)
                    try:
                        await waiter
                    finally:
                        self._waiters.discard(waiter)
        except TimeoutError:
            seen = len(self._events.get(key, []))
            raise TimeoutError(
                f"no matching {self._what} for {key} within {timeout_s} s ({seen} in all)"
            ) from None


class Waiting(Protocol[K_contra, T_co]):
    async def __call__(
        self,
        key: K_contra,
        predicate: Callable[[T_co], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> T_co: ...


class WaitFor(OfHandle[Waiting[K, T]], Generic[K, T]):
    """A handle's ``wait_for_…(key, predicate=None, timeout_s=5.0)``: the next event of one of
    its watches (``watch_of(handle)``) for ``key`` that matches ``predicate``, after the last
    one it returned; TimeoutError after ``timeout_s``."""

    def __init__(self, watch_of: Callable[[Any], Watch[K, T]], doc: str) -> None:
        self._watch_of = watch_of
        self.__doc__ = doc

    def _of(self, handle: object) -> Waiting[K, T]:
        watch = self._watch_of(handle)

        async def wait(
            key: K, predicate: Callable[[T], bool] | None = None, timeout_s: float = 5.0
        ) -> T:
            return await watch.next(key, predicate, timeout_s)

        return wait
