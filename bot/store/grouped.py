"""Group commit for ``put_due_once``: the calls concurrent workers make while one write is under
way gather and go together in the next (``Store.put_due_once_many``), so a burst of reminders,
fired several at a time, queues its notifications in a few writes instead of one each.

Each put keeps its own terms (written, or refused for its key) and its own atomicity, so the
outcome is that of the single calls; only the number of commits changes. Nothing waits for
company: a call made when no write is under way is written at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.store.protocol import DueEntry, OncePut, Store

__all__ = ["GroupedOnce", "WriteInterrupted"]

MAX_GROUP = 256  # puts per write: a bound on one transaction's length, not a wait


class WriteInterrupted(Exception):
    """The write that carried this put was cancelled (its caller was stopped): whether it
    landed is unknown. As with a crash, trying again is safe: the put's key decides."""


class _Waiting:
    __slots__ = ("put", "result")

    def __init__(self, put: OncePut, result: asyncio.Future[bool]) -> None:
        self.put = put
        self.result = result


class GroupedOnce:
    """``put_due_once`` through one write per group of concurrent calls (see the module)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: list[_Waiting] = []
        self._writing: asyncio.Future[None] | None = None  # the write under way, if any

    async def put_due_once(
        self, queue: str, entries: Sequence[DueEntry], key: str, ttl_s: float
    ) -> bool:
        put = OncePut(queue=queue, entries=tuple(entries), key=key, ttl_s=ttl_s)
        mine = _Waiting(put, asyncio.get_running_loop().create_future())
        self._waiting.append(mine)
        while not mine.result.done():
            if self._writing is None:
                await self._write_group()  # this caller writes what waits, its own put first
            else:
                await asyncio.wait({self._writing})
        return mine.result.result()

    async def _write_group(self) -> None:
        group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        self._writing = writing = asyncio.get_running_loop().create_future()
        try:
            done = await self._store.put_due_once_many([w.put for w in group])
        except asyncio.CancelledError:
            for w in group:
                w.result.set_exception(WriteInterrupted(w.put.key))
            raise
        except Exception as exc:  # the store failed: every put of the group hears it
            for w in group:
                w.result.set_exception(exc)
        else:
            for w, written in zip(group, done, strict=True):
                w.result.set_result(written)
        finally:
            self._writing = None
            writing.set_result(None)
