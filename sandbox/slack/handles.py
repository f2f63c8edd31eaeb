"""The one-time handles an interaction gives the app: a ``trigger_id`` (opens one modal, within
3 s) and a ``response_url`` (up to 5 answers within 30 minutes).

Their lifetimes run on real time (``time.monotonic``), not on the emulator's clock: tests move
that clock by hours, while an app's answer to an interaction is seconds away in real time.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

TRIGGER_TTL_S = 3.0
RESPONSE_URL_TTL_S = 30 * 60.0
RESPONSE_URL_USES = 5


@dataclass
class Trigger:
    user: str
    created: float  # time.monotonic()
    used: bool = False


class Triggers:
    def __init__(self) -> None:
        self._issued: dict[str, Trigger] = {}
        self.ttl_s = TRIGGER_TTL_S

    def issue(self, user: str) -> str:
        """A trigger id shaped like Slack's ("<digits>.<digits>.<hex>")."""
        trigger_id = (
            f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        )
        self._issued[trigger_id] = Trigger(user=user, created=time.monotonic())
        return trigger_id

    def use(self, trigger_id: str) -> str:
        """The trigger's user, once, while it is fresh; else LookupError with Slack's code."""
        trigger = self._issued.get(trigger_id)
        if trigger is None:
            raise LookupError("invalid_trigger_id")
        if trigger.used:
            raise LookupError("exchanged_trigger_id")
        if time.monotonic() - trigger.created > self.ttl_s:
            raise LookupError("expired_trigger_id")
        trigger.used = True
        return trigger.user


@dataclass
class ResponseTarget:
    """What a response_url answers: the user and channel of the interaction, and the message it
    came from if any (``message_ts``, or ``ephemeral_ts`` for an ephemeral one)."""

    channel: str
    user: str
    message_ts: str | None
    ephemeral_ts: str | None
    created: float  # time.monotonic()
    uses: int = 0


class ResponseUrls:
    def __init__(self) -> None:
        self._issued: dict[str, ResponseTarget] = {}
        self.ttl_s = RESPONSE_URL_TTL_S
        self.max_uses = RESPONSE_URL_USES

    def issue(
        self,
        base_url: str,
        channel: str,
        user: str,
        *,
        message_ts: str | None = None,
        ephemeral_ts: str | None = None,
    ) -> str:
        key = secrets.token_hex(12)
        self._issued[key] = ResponseTarget(channel, user, message_ts, ephemeral_ts,
                                           time.monotonic())  # fmt: skip
        return f"{base_url}/_response/{key}"

    def target(self, key: str) -> ResponseTarget:
        """The target of a live key; LookupError with Slack's code when it is spent or old."""
        target = self._issued.get(key)
        if target is None or time.monotonic() - target.created > self.ttl_s:
            raise LookupError("expired_url")
        if target.uses >= self.max_uses:
            raise LookupError("used_url")
        return target
