"""Send limits on the emulator's clock: token buckets per chat (1/s with a small burst) and
global (30/s), and a one-minute sliding window per group (20 messages)."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.common.ratelimit import Limiter, SlidingWindow, TokenBucket, retry_after_s
from sandbox.telegram.errors import too_many_requests
from sandbox.telegram.records import RateLimits


class RateLimiter(Limiter[RateLimits]):
    """A call passes only when every bucket it draws on has a token; a refused call takes none."""

    def __init__(self, limits: RateLimits | None, clock: Callable[[], float]) -> None:
        super().__init__(limits)
        self._clock = clock
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, SlidingWindow] = {}
        self._global: TokenBucket | None = None

    def _reset(self) -> None:
        self._chats.clear()
        self._groups.clear()
        self._global = None

    def _buckets(
        self, chat_id: int, limits: RateLimits, now: float
    ) -> list[TokenBucket | SlidingWindow]:
        if self._global is None:
            self._global = TokenBucket(limits.global_per_s, limits.global_per_s, now)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = TokenBucket(limits.per_chat_burst, limits.per_chat_per_s, now)
            self._chats[chat_id] = chat
        buckets: list[TokenBucket | SlidingWindow] = [self._global, chat]
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None:
                group = SlidingWindow(limits.group_per_minute, 60.0)
                self._groups[chat_id] = group
            buckets.append(group)
        return buckets

    def admit(self, chat_id: int) -> None:
        """Count one send or edit to `chat_id`, or raise 429 with the seconds to wait."""
        limits = self._limits
        if limits is None:
            return
        now = self._clock()
        buckets = self._buckets(chat_id, limits, now)
        wait = max(bucket.wait_s(now) for bucket in buckets)
        if wait > 0:
            self.refused += 1
            raise too_many_requests(retry_after_s(wait))
        for bucket in buckets:
            bucket.take(now)
