"""Digest mode: alerts kept per recipient (by digest subscriptions, or by a person's own
``/digest``) until their digest goes.

Each recipient's pending lines are one document changed by compare-and-set, so replicas adding
lines at the same moment lose none. A digest is read (``peek``), queued once under a key made
of what it holds (``sent_key``), and only then are its lines removed (``remove``, keeping lines
added since): a crash in between sends the same digest again, which the key makes a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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

    async def peek(self, who: str) -> Pending | None:
        """The pending lines, left in place until ``remove`` (None: nothing waits)."""
        raw = await self._store.get_doc(NS, who)
        return None if raw is None else Pending.model_validate_json(raw)

    async def remove(self, who: str, sent: Pending) -> None:
        """Drop the lines ``sent`` (a ``peek``) went out with, keeping those added since (lines
        are only ever appended); a no-op if they are gone already (another replica sent them)."""
        for _ in range(_CAS_ROUNDS):
            raw = await self._store.get_doc(NS, who)
            if raw is None:
                return
            now = Pending.model_validate_json(raw)
            if now.items[: len(sent.items)] != sent.items:
                return
            left = {"items": now.items[len(sent.items) :],
                    "dropped": max(0, now.dropped - sent.dropped)}  # fmt: skip
            rest = now.model_copy(update=left)
            value = rest.model_dump_json() if rest.items or rest.dropped else None
            if await self._store.swap_doc(NS, who, raw, value):
                return
        raise RuntimeError(f"digest of {who}: too much contention")

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


def sent_key(who: str, pending: Pending) -> str:
    """The outbox's once-key of the digest made of ``pending``: the same lines, the same key."""
    digest = hashlib.sha256(pending.model_dump_json().encode()).hexdigest()[:24]
    return f"digest:{who}:{digest}"


def last_moment(now: float, timezone: str, at: str) -> int:
    """The latest digest time at or before ``now``."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(x) for x in at.split(":"))
    today = dt.datetime.fromtimestamp(now, zone).date()
    moment = wall_clock(today, dt.time(hour, minute), zone)
    if moment > now:
        moment = wall_clock(today - dt.timedelta(days=1), dt.time(hour, minute), zone)
    return moment
