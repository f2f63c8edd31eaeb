"""Rate-limit arithmetic the emulators share: token buckets and sliding windows, on whatever
clock the caller reads (the caller passes ``now``)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

L = TypeVar("L")


def limits_from(value: bool | L | None, default: Callable[[], L]) -> L | None:
    """An emulator's ``rate_limits`` argument: True the service's own limits (``default()``),
    False or None no limits, else the limits given."""
    if value is True:
        return default()
    if value is False or value is None:
        return None
    return value


def retry_after_s(wait_s: float) -> int:
    """A wait as a Retry-After: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))


class Limiter(Generic[L]):
    """The limits in force (None: none) over the buckets they fill; a subclass keeps the
    buckets and empties them in ``_reset``, as new limits start with full buckets."""

    def __init__(self, limits: L | None) -> None:
        self._limits = limits
        self.refused = 0  # calls the limits refused, for the emulators' stats

    @property
    def limits(self) -> L | None:
        return self._limits

    @limits.setter
    def limits(self, limits: L | None) -> None:
        self._limits = limits
        self._reset()

    def _reset(self) -> None:
        raise NotImplementedError


class TokenBucket:
    """``capacity`` tokens, refilled at ``per_s``; it starts full."""

    def __init__(self, capacity: float, per_s: float, now: float) -> None:
        self._capacity = capacity
        self._per_s = per_s
        self._tokens = capacity
        self._stamp = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)  # a clock set back must not mint tokens
        self._tokens = min(self._capacity, self._tokens + elapsed * self._per_s)
        self._stamp = max(self._stamp, now)

    def wait_s(self, now: float) -> float:
        """Seconds until one token is there (0: now)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._per_s

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0

    def try_take(self, now: float) -> float:
        """Take a token: 0 if there was one, else the seconds until there is (none taken)."""
        wait = self.wait_s(now)
        if wait == 0.0:
            self._tokens -= 1.0
        return wait


class SlidingWindow:
    """At most ``limit`` takes within any ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._taken: deque[float] = deque()

    def wait_s(self, now: float) -> float:
        while self._taken and self._taken[0] <= now - self._window_s:
            self._taken.popleft()
        if len(self._taken) < self._limit:
            return 0.0
        return self._taken[0] + self._window_s - now

    def take(self, now: float) -> None:
        self._taken.append(now)
