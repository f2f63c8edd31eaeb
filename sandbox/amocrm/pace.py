"""The per-integration request pace: a sliding one-second window on a monotonic clock."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class PaceWindow:
    """Every request received counts, refused ones included (a client that keeps bursting stays
    refused, which is what "no more than 7 requests per second" punishes). The emulator serves
    one integration, so one window covers all its tokens."""

    def __init__(
        self,
        limit_per_s: float | None,
        *,
        window_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit_per_s = limit_per_s
        self._window_s = window_s
        self._monotonic = monotonic
        self._arrivals: deque[float] = deque()

    def admit(self) -> bool:
        """Count one arrival; False when it is past the limit within the last window."""
        now = self._monotonic()
        while self._arrivals and self._arrivals[0] <= now - self._window_s:
            self._arrivals.popleft()
        self._arrivals.append(now)
        if self.limit_per_s is None:
            return True
        return len(self._arrivals) <= math.floor(self.limit_per_s * self._window_s)
