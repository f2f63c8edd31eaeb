"""Group commit for ``put_due_once``: the calls concurrent workers make while one write is under
way gather and go together in the next (``Store.put_due_once_many``), so many senders queueing
at one moment (alerts of one change, replies) share a few writes instead of one each.

Each put keeps its own terms (written, or refused for its key) and its own atomicity, so the
outcome is that of the single calls; only the number of commits changes. A caller returns once
its write committed, as before: what it does next (complete a claim) follows a durable put.
Nothing waits for company: a call made when no write is under way is written at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.store.protocol import DueEntry, OncePut, Store

__all__ = ["GroupCommit", "GroupedOnce", "WriteInterrupted"]

MAX_GROUP = 256  # calls per write: a bound on one transaction's length, not a wait

P = TypeVar("P")
R = TypeVar("R")


class WriteInterrupted(Exception):
    """The write that carried this call was cancelled (its caller was stopped): whether it
    landed is unknown. As after a crash, trying again is safe: puts replace, once-puts have
    their key."""


class _Waiting(Generic[P, R]):
    __slots__ = ("call", "result")

    def __init__(self, call: P, result: asyncio.Future[R]) -> None:
        self.call = call
        self.result = result


class GroupCommit(Generic[P, R]):
    """Calls made while a write is under way go together in the next: ``write`` takes the
    group's calls in order and returns one result each."""

    def __init__(self, write: Callable[[list[P]], Awaitable[list[R]]]) -> None:
        self._write = write
        self._waiting: list[_Waiting[P, R]] = []
        self._writing: asyncio.Future[None] | None = None  # the write under way, if any

    async def __call__(self, call: P) -> R:
        mine = _Waiting[P, R](call, asyncio.get_running_loop().create_future())
        self._waiting.append(mine)
        while not mine.result.done():
            if self._writing is None:
                await self._write_group()  # this caller writes what waits, its own call first
            else:
                await asyncio.wait({self._writing})
        return mine.result.result()

    async def _write_group(self) -> None:
        group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        self._writing = writing = asyncio.get_running_loop().create_future()
        try:
            done = await self._write([w.call for w in group])
        except asyncio.CancelledError:
            for w in group:
                w.result.set_exception(WriteInterrupted())
                w.result.exception()  # heard by its caller, if still there; no "never retrieved"
            raise
        except Exception as exc:  # the store failed: every call of the group hears it
            for w in group:
                w.result.set_exception(exc)
                w.result.exception()
        else:
            for w, result in zip(group, done, strict=True):
                w.result.set_result(result)
        finally:
            self._writing = None
            writing.set_result(None)


class GroupedOnce:
    """``Store.put_due_once`` through one ``put_due_once_many`` per group of concurrent calls."""

    def __init__(self, store: Store) -> None:
        self._group = GroupCommit[OncePut, bool](store.put_due_once_many)

    async def put_due_once(
        self, queue: str, entries: Sequence[DueEntry], key: str, ttl_s: float
    ) -> bool:
        return await self._group(
            OncePut(queue=queue, entries=tuple(entries), key=key, ttl_s=ttl_s)
        )
