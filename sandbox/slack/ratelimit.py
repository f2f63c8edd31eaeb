"""Slack's rate limits, measured on real time (``time.monotonic``, never the emulator's clock):
chat.postMessage about one message a second per channel with a short burst, and the other
methods per minute by tier, per workspace and app (api.slack.com/docs/rate-limits).

Each limit is a token bucket: a call takes a token or is refused (HTTP 429 with the whole
seconds until a token is back as ``Retry-After``, at least 1) and takes nothing.
"""

from __future__ import annotations

import time

from sandbox.common.ratelimit import Limiter, TokenBucket, retry_after_s
from sandbox.slack.records import SlackRateLimits

# The tier of each method the emulator serves (each method's reference page, "Rate limits").
# auth.test is "special" (hundreds a minute) and is not limited here.
TIERS = {
    "users.list": 2,
    "chat.update": 3, "chat.delete": 3, "conversations.open": 3, "users.lookupByEmail": 3,
    "chat.postEphemeral": 4, "users.info": 4, "views.open": 4, "views.push": 4,
    "views.update": 4, "views.publish": 4, "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}  # fmt: skip


class RateLimiter(Limiter[SlackRateLimits]):
    def __init__(self, limits: SlackRateLimits | None) -> None:
        super().__init__(limits)
        self._buckets: dict[str, TokenBucket] = {}

    def _reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, key: str, capacity: float, per_s: float, now: float) -> TokenBucket:
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(capacity, per_s, now)
        return self._buckets[key]

    def check(self, method: str, channel: str | None) -> int | None:
        """None if the call may go through, else its Retry-After in whole seconds (>= 1).
        ``channel``: the channel a chat.postMessage goes to."""
        limits = self._limits
        if limits is None:
            return None
        now = time.monotonic()
        if method == "chat.postMessage":
            bucket = self._bucket(f"post:{channel}", limits.post_burst, limits.post_per_s, now)
        elif method in TIERS:
            per_min = {2: limits.tier2_per_min, 3: limits.tier3_per_min,
                       4: limits.tier4_per_min}[TIERS[method]]  # fmt: skip
            bucket = self._bucket(f"tier:{method}", per_min, per_min / 60.0, now)
        else:
            return None
        wait = bucket.try_take(now)
        if wait == 0.0:
            return None
        self.refused += 1
        return retry_after_s(wait)
