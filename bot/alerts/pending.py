"""Digest mode: alerts kept per recipient (by digest subscriptions, or by a person's own
``/digest``) until their digest goes.

Each recipient's pending lines are one document changed by compare-and-set, so replicas adding
lines at the same moment lose none, and taking them for sending empties it in the same step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core import Lang, Value, wall_clock
from bot.store import Store

NS = "digest"
MAX_ITEMS = 200  # kept per recipient; beyond, only counted
SHOWN_ITEMS = 40  # shown in one message (the rest: "and N more")
_CAS_ROUNDS = 50


class PendingItem(Value):
    at: int
    text: str
    url: str | None = None


class Pending(Value):
    """What waits for one recipient: a person (``user:<id>``) or a shared chat."""

    lang: Lang
    items: tuple[PendingItem, ...] = ()
    dropped: int = 0  # past MAX_ITEMS


@dataclass(frozen=True, slots=True, eq=False)
class DigestBook:
    _store: Store

    async def add(self, who: str, lang: Lang, item: PendingItem) -> None:
        for _ in range(_CAS_ROUNDS):
            raw = await self._store.get_doc(NS, who)
            pending = Pending.model_validate_json(raw) if raw else Pending(lang=lang)
            if len(pending.items) < MAX_ITEMS:
                pending = pending.model_copy(update={"items": (*pending.items, item)})
            else:
                pending = pending.model_copy(update={"dropped": pending.dropped + 1})
            if await self._store.swap_doc(NS, who, raw, pending.model_dump_json()):
                return
        raise RuntimeError(f"digest of {who}: too much contention")  # replicas by the dozen

    async def waiting(self) -> list[str]:
        """Recipients with something pending."""
        return sorted(await self._store.list_docs(NS))

    async def take(self, who: str) -> Pending | None:
        """The pending lines, removed in the same step (None: nothing, or another replica took
        them first)."""
        for _ in range(_CAS_ROUNDS):
            raw = await self._store.get_doc(NS, who)
            if raw is None:
                return None
            if await self._store.swap_doc(NS, who, raw, None):
                return Pending.model_validate_json(raw)
        return None

    async def oldest(self, who: str) -> int | None:
        """When the oldest line waiting for ``who`` happened (None: nothing waits)."""
        raw = await self._store.get_doc(NS, who)
        if raw is None:
            return None
        pending = Pending.model_validate_json(raw)
        return min((i.at for i in pending.items), default=None)

    async def due(self, who: str, now: float, timezone: str, at: str) -> bool:
        """Has a digest moment (``at``, HH:MM in ``timezone``) passed since the oldest line
        waiting? A line that came after this morning's digest waits for tomorrow's."""
        oldest = await self.oldest(who)
        return oldest is not None and oldest < last_moment(now, timezone, at)


def last_moment(now: float, timezone: str, at: str) -> int:
    """The latest digest time at or before ``now``."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(x) for x in at.split(":"))
    today = dt.datetime.fromtimestamp(now, zone).date()
    moment = wall_clock(today, dt.time(hour, minute), zone)
    if moment > now:
        moment = wall_clock(today - dt.timedelta(days=1), dt.time(hour, minute), zone)
    return moment
