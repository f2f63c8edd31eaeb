"""A clock the tests move by hand: due times and claim leases without sleeping."""

from __future__ import annotations

import time


class FakeClock:
    """Starts at the real time (the store's pacing reads the real clock; the two stay close)."""

    def __init__(self) -> None:
        self._now = time.time()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
