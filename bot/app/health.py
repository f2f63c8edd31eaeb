"""Readiness (``/readyz``) and the gauges a scrape reads from the store (``/metrics``).

Ready means: the store answers, amoCRM is authorised (a token is there, not expired, and the last
API answer was not a 401), and no messenger's outbox has a message overdue by more than
``OUTBOX_STUCK_S``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.app.settings import AmoCrmSettings
from bot.core import Channel, Clock, Metrics
from bot.delivery import outbox_queue
from bot.store import Store
from integrations.amocrm import jwt_expiry

TOKENS_KEY = "amocrm"
# A message due this long and still not sent: the sender is dead or the messenger refuses us.
OUTBOX_STUCK_S = 600.0


# The store's record of a lost amoCRM access, shared by the replicas (bot/app/access.py).
ACCESS_NS = "amocrm-access"
STATE_KEY = "state"
LOST = "lost"


async def access_lost(store: Store) -> bool:
    return await store.get_doc(ACCESS_NS, STATE_KEY) == LOST


class AmoAccess:
    """What the amoCRM API said last about our token: a 401 means access is lost until an
    answer succeeds again (a new token, a re-authorisation)."""

    def __init__(self) -> None:
        self.lost = False

    def observe(self, _method: str, _path: str, status: int) -> None:
        if status == 401:
            self.lost = True
        elif status < 400:
            self.lost = False


@dataclass(frozen=True, slots=True, eq=False)
class Health:
    _store: Store
    _clock: Clock
    _metrics: Metrics
    _amocrm: AmoCrmSettings
    _access: AmoAccess
    _channels: Sequence[Channel]

    async def token_expires_at(self) -> int | None:
        if self._amocrm.long_lived_token is not None:
            return jwt_expiry(self._amocrm.long_lived_token.get_secret_value())
        tokens = await self._store.load_tokens(TOKENS_KEY)
        return tokens.expires_at if tokens is not None else None

    async def amocrm_state(self) -> str:
        if self._amocrm.uses_oauth and await self._store.load_tokens(TOKENS_KEY) is None:
            return "not authorised: run amobridge authorize"
        if self._access.lost or await access_lost(self._store):
            return "access lost: amoCRM rejects the token"
        expires = await self.token_expires_at()
        if expires is not None and expires <= self._clock.now():
            return "token expired"
        return "ok"

    async def outbox_ages(self) -> dict[Channel, tuple[int, float]]:
        """Per messenger: messages waiting, and how long the most overdue has been due."""
        now = self._clock.now()
        ages: dict[Channel, tuple[int, float]] = {}
        for channel in self._channels:
            queue = outbox_queue(channel)
            earliest = await self._store.earliest_due(queue)
            age = 0.0 if earliest is None else max(0.0, now - earliest)
            ages[channel] = (await self._store.count_due(queue), age)
        return ages

    async def readiness(self) -> dict[str, str]:
        try:
            await self._store.ping()
        except Exception:
            return {"store": "unreachable"}
        checks = {"store": "ok", "amocrm": await self.amocrm_state()}
        for channel, (_, age) in (await self.outbox_ages()).items():
            checks[f"outbox_{channel}"] = "ok" if age < OUTBOX_STUCK_S else f"stuck for {age:.0f}s"
        return checks

    async def before_scrape(self) -> None:
        """Set the gauges that live in the store."""
        for channel, (depth, age) in (await self.outbox_ages()).items():
            self._metrics.outbox_depth.labels(channel=channel).set(depth)
            self._metrics.outbox_oldest_age.labels(channel=channel).set(age)
        expires = await self.token_expires_at()
        if expires is not None:
            self._metrics.amocrm_token_expires_at.set(expires)
