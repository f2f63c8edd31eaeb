"""Request pacing: amoCRM allows 7 requests/s per integration, for all its processes together.

The pace lives in the store (a shared window of the moments last reserved), so every coroutine
and every replica sharing the store keeps one pace, and a 429 storm is avoided rather than
retried through.

amoCRM counts requests as they reach it, so any 8 in a row must reach it more than a second
apart, first to last. A turn is a moment with fewer than 7 others in the 7/6.6 s (1.06 s)
before it: under load that is 6.6/s, 8 in a row 1.06 s apart, so a request may arrive up to
60 ms later than the seventh after it and still be inside the limit. While the window is quiet
the turns come at once: a change's reads (its deal, then its task) do not wait a slot apart
(bench/latency.py). The one thing that delays a single request
by more is a turn that wakes late (a busy event loop, a descheduled replica) and would then go
out bunched with the turns after it; such a turn gives its moment up and takes a fresh one (a
skipped moment is only a gap), a few times at most, so that a loop that is always late still
makes progress.

Background work (the jobs: the events poll's pages, the sync, the scans; the catch-up drain of
what the poll found) goes second: it takes a moment only now, only while fewer than 5 are in the
window and none is booked ahead, and otherwise waits without booking. So it never queues ahead
of a person: 2 of every 7 moments stay free for what someone waits on (a card after a change, a
press written back, a command's answer), and all 7 while nobody does. Alone it gets 5 in any
1.06 s, 4.7/s; a person's wait behind it is measured in bench/amocrm_pace.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Final, Protocol, TypeVar

from bot.store import Store

T = TypeVar("T")

DEFAULT_RATE_PER_S: Final = 6.6
DEFAULT_BURST: Final = 7  # amoCRM's 7 requests a second, at once while the window is quiet
# A turn woken later than this after its slot takes a new one; well under the 60 ms of slack
# that 6.6/s leaves, so the other delays on the way (sending, amoCRM reading) fit in the rest.
DEFAULT_LATE_S: Final = 0.025
_RETAKES: Final = 3
# Of the window's moments, those a person's request may always find free (see the docstring).
DEFAULT_KEPT_FOR_PEOPLE: Final = 2

# Whether the work running now is background work. A context variable rather than a flag on
# every call: the priority belongs to the work (a job, a drain loop) and follows it through each
# service it calls, into the tasks it starts, while the client stays one for the whole process.
_BACKGROUND: Final[ContextVar[bool]] = ContextVar("amocrm_background", default=False)


def in_background(body: Callable[[], Awaitable[T]]) -> Callable[[], Coroutine[Any, Any, T]]:
    """``body`` with its amoCRM requests at background priority (see the module docstring)."""

    async def run() -> T:
        token = _BACKGROUND.set(True)
        try:
            return await body()
        finally:
            _BACKGROUND.reset(token)

    return run


class Pacer(Protocol):
    async def wait_turn(self) -> None:
        """Return when the caller may send its next request."""
        ...


class StorePacer:
    def __init__(
        self,
        store: Store,
        name: str = "amocrm:pace",
        rate_per_s: float = DEFAULT_RATE_PER_S,
        *,
        burst: int = DEFAULT_BURST,
        late_s: float | None = DEFAULT_LATE_S,
        kept_for_people: int = DEFAULT_KEPT_FOR_PEOPLE,
    ) -> None:
        """At most ``burst`` turns in any ``burst / rate_per_s`` seconds (``burst`` 1: turns
        evenly ``1 / rate_per_s`` apart); background turns leave ``kept_for_people`` of them
        free. ``late_s`` None sends a late turn anyway (the pacer as it was before the
        guard)."""
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s and burst must be positive")
        self._store = store
        self._name = name
        self._burst = burst
        self._window_s = burst / rate_per_s
        self._late_s = late_s
        self._room = max(1, burst - kept_for_people)
        self._reserving = asyncio.Lock()
        self._background = asyncio.Lock()
        self.retaken = 0  # turns that woke late and took a fresh slot (for benchmarks and tests)

    async def wait_turn(self) -> None:
        if _BACKGROUND.get():
            await self._background_turn()
        else:
            await self._turn()

    async def _background_turn(self) -> None:
        loop = asyncio.get_running_loop()
        # One background caller of this process asks at a time; the others wait here, not in
        # the store, so that a job's many reads cost the store one question a turn.
        async with self._background:
            retakes = 0
            while True:
                async with self._reserving:
                    asked = loop.time()
                    wait = await self._store.take_in_window(
                        self._name, self._burst, self._window_s, self._room
                    )
                    late = loop.time() - asked
                if wait > 0:
                    await asyncio.sleep(wait)  # nothing was taken: ask again then
                    continue
                if self._late_s is None or late <= self._late_s or retakes == _RETAKES:
                    return
                retakes += 1
                self.retaken += 1

    async def _turn(self) -> None:
        loop = asyncio.get_running_loop()
        for retake in range(_RETAKES + 1):
            # One reservation in flight per process: the store's answer then comes in about one
            # round trip, rather than after a queue of this process's own callers.
            async with self._reserving:
                asked = loop.time()
                wait = await self._store.reserve_in_window(self._name, self._burst, self._window_s)
                answered = loop.time()
            # The store read its clock between asked and answered, so the slot lies within
            # ``wait`` after those: sleep to the latest, count lateness from the earliest.
            await asyncio.sleep(max(0.0, answered + wait - loop.time()))
            late = loop.time() - (asked + wait)
            if self._late_s is None or late <= self._late_s or retake == _RETAKES:
                return
            self.retaken += 1


class NoPacing:
    """No pacing at all: for tests against a fake transport, and for baselines."""

    async def wait_turn(self) -> None:
        return None
