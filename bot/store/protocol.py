"""The one storage contract. Two backends implement it: SQLite (one process) and Redis (replicas).

Every method is atomic on its own. Where two replicas could race (a token refresh, a due item, a
cache update), the contract says what the loser sees, and the contract tests check it against both
backends. Later features add methods here, and to both backends, and to the contract tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from pydantic import ConfigDict

from bot.core import CrmEvent, Deal, EntityKind, OAuthTokens, Task, Value

E = TypeVar("E", Task, Deal)


class StoreFull(Exception):
    """The store refused a write for want of space (a full disk, or a size cap): nothing of it
    was written. Expected while it lasts: callers answer "try again later" (a webhook 503),
    loops wait and log it once, and writing works again when space returns."""

    expected = True  # core.FailureNote: one line while it lasts, no traceback


class Cached(Value, Generic[E]):
    """A cached entity and its revision; a write names the revision it read (compare-and-set).

    Revisions only identify a state: they are never reused (not even after the entity is removed
    and cached again) but need not count up by one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: E
    rev: int


# Parametrized once: ``Cached[Task](...)`` looks the class up again on every call, which cost a
# burst of reminders more than parsing the task (bench/scheduler.py).
CachedTask = Cached[Task]
CachedDeal = Cached[Deal]


class EntityChange(Value):
    """Replace the cached ``kind``/``id`` entity and journal ``events``, in one atomic step.

    ``expected_rev`` is the revision the caller read (``None``: it read nothing). If the cache no
    longer holds that revision the whole change is refused, so two replicas that saw the same hint
    cannot both journal its events. ``new=None`` removes the entity (deleted in amoCRM); removing
    an entity that is not cached, with ``expected_rev=None``, succeeds. A ``new`` that is not the
    ``kind``/``id`` entity is a ``ValueError``.

    ``fanout`` names due queues that receive each newly journaled event in the same atomic step
    (item id: the event's key; due at its ``occurred_at``; the payload its JSON), hidden until
    ``hold_until``: a listener's share of the journal, so that a crash right after the commit
    loses no listener's work. The committing process runs the listeners itself and cancels the
    entries; if it dies first, they become claimable at ``hold_until``.
    """

    kind: EntityKind
    id: int
    expected_rev: int | None
    new: Task | Deal | None
    events: tuple[CrmEvent, ...] = ()
    fanout: tuple[str, ...] = ()
    hold_until: float = 0.0


class DueItem(Value):
    """An entry of a due-time index (reminders, the webhook inbox, retries).

    ``token`` is the claim's: a put leaves the entry without one (so stored entries take no room
    for it) and every claim gives it a new one; completing an item with a stale token (the item
    was put again while it was being worked on) leaves the newer entry in place.
    """

    queue: str
    item_id: str
    due_at: float
    payload: str = ""
    token: str


class DueEntry(Value):
    """One item to put into a due-time index."""

    item_id: str
    due_at: float
    payload: str = ""


class OncePut(Value):
    """One ``put_due_once`` of a ``put_due_once_many``."""

    queue: str
    entries: tuple[DueEntry, ...]
    key: str
    ttl_s: float


class Store(Protocol):
    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise if the backend cannot be reached."""
        ...

    # --- OAuth tokens -------------------------------------------------------------------------
    async def load_tokens(self, name: str) -> OAuthTokens | None: ...

    async def save_tokens(self, name: str, tokens: OAuthTokens) -> None: ...

    # --- leases: cross-process locks with a time-to-live ----------------------------------------
    async def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take the lease, or extend it if ``owner`` holds it. False if someone else does."""
        ...

    async def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up; a no-op unless ``owner`` holds it."""
        ...

    # --- pacing -------------------------------------------------------------------------------
    async def reserve_slot(self, name: str, interval_s: float) -> float:
        """Reserve the next free moment on a shared timeline spaced ``interval_s`` apart.

        Returns how many seconds the caller must wait before its slot. Every process sharing the
        store shares the timeline, so N replicas together keep one pace.
        """
        ...

    async def reserve_in_window(self, name: str, count: int, window_s: float) -> float:
        """Reserve the earliest moment, from now and not before the last one reserved under
        ``name``, with fewer than ``count`` reserved moments in the ``window_s`` before it
        ("no more than 7 requests in any second": a burst while the window is quiet, then one
        a slot). Returns how many seconds the caller must wait for it; every process sharing the
        store shares the window."""
        ...

    async def take_in_window(self, name: str, count: int, window_s: float, room: int) -> float:
        """``reserve_in_window`` for a caller that may wait (a background job): a moment now,
        taken only if fewer than ``room`` (under ``count``) moments are in the ``window_s``
        before it and none is reserved after now. Returns 0.0 if it was taken; else nothing is
        reserved and the answer is how long until asking again may succeed, so the rest of the
        window stays free for the callers that ``reserve_in_window``."""
        ...

    # --- cursors and dedupe -------------------------------------------------------------------
    async def get_cursor(self, name: str) -> str | None: ...

    async def set_cursor(self, name: str, value: str) -> None: ...

    async def mark_seen(self, key: str, ttl_s: float) -> bool:
        """Record ``key``; True the first time (within ``ttl_s``), False on every repeat.

        A repeat does not extend the window: ``ttl_s`` after the first mark, the key is new again.
        """
        ...

    # --- task and deal cache ------------------------------------------------------------------
    async def get_task(self, task_id: int) -> Cached[Task] | None: ...

    async def get_deal(self, deal_id: int) -> Cached[Deal] | None: ...

    async def get_tasks(self, task_ids: Sequence[int]) -> dict[int, Cached[Task]]:
        """The cached ones of ``task_ids`` by id (the others left out), in one read: a burst of
        reminders reads its tasks at once instead of one round trip each."""
        ...

    async def get_deals(self, deal_ids: Sequence[int]) -> dict[int, Cached[Deal]]:
        """``get_tasks`` for deals."""
        ...

    async def list_open_tasks(self, responsible_user_id: int | None = None) -> list[Task]:
        """Open cached tasks, optionally of one user, ordered by ``complete_till``.

        Open means not ``is_completed``; equal deadlines come in ``id`` order.
        """
        ...

    async def apply_change(self, change: EntityChange) -> tuple[CrmEvent, ...] | None:
        """Compare-and-set the cache and journal the events. None (nothing written) on conflict.

        An event whose ``key`` is already journaled is not journaled twice. Returns the events
        journaled by this call, in order: what the caller must act on, exactly once.
        """
        ...

    async def recent_events(self, since: int = 0, limit: int = 1000) -> list[CrmEvent]:
        """Journaled events with ``occurred_at >= since``, oldest first.

        At most the ``limit`` oldest of them; events of one moment come in journal order.
        """
        ...

    # --- due-time index -----------------------------------------------------------------------
    async def put_due(self, queue: str, item_id: str, due_at: float, payload: str = "") -> None:
        """Insert or replace an item (a claim of the replaced one no longer holds it)."""
        ...

    async def put_due_many(self, queue: str, entries: Sequence[DueEntry]) -> None:
        """``put_due`` for several items in one atomic write (one commit, one round trip)."""
        ...

    async def put_due_once(
        self, queue: str, entries: Sequence[DueEntry], key: str, ttl_s: float
    ) -> bool:
        """``put_due_many`` and ``mark_seen(key, ttl_s)`` as one atomic step: the entries are put
        only if ``key`` is new, and then it is marked. False (nothing written) on a repeat.

        What must be queued once (an alert to one person, a reminder) survives a crash at any
        point: before this call nothing is marked, after it both are done.
        """
        ...

    async def put_due_once_many(self, puts: Sequence[OncePut]) -> list[bool]:
        """Several ``put_due_once`` in one write (one commit, one round trip), each on its own
        terms: the result tells, put by put in order, whether it wrote (False: its key was
        marked already, also by an earlier put of the same call). A burst of reminders queues
        a claim's worth in a few writes instead of one each."""
        ...

    async def claim_due(self, queue: str, now: float, limit: int, lease_s: float) -> list[DueItem]:
        """Atomically take up to ``limit`` items due at ``now``, earliest first.

        A claimed item is hidden for ``lease_s`` (in the index it becomes due at ``now +
        lease_s``), so concurrent claimers never get the same item, and an item whose claimer died
        comes back. The returned items carry the ``due_at`` they were put with, also when claimed
        again.
        """
        ...

    async def complete_due(self, item: DueItem) -> bool:
        """Remove a claimed item if its token matches; False if it was put again meanwhile.

        Also False if the item was cancelled, or claimed again after this claim's lease ran out.
        """
        ...

    async def extend_claims(self, items: Sequence[DueItem], until: float) -> frozenset[str]:
        """Keep the claims of ``items`` (all of one queue): each still claimed with its token is
        hidden until ``until`` instead; returns their ids. An item completed, cancelled, put
        again or claimed by someone else since is left alone and not returned.

        A worker renews its claims while it works (``bot.store.due.keep_claims``), so a lease can
        be short: a dead worker's items come back soon, a live one's never.
        """
        ...

    async def cancel_due(self, queue: str, item_id: str) -> None:
        """Remove an item, claimed or not; a no-op if there is none."""
        ...

    async def count_due(self, queue: str) -> int:
        """Items in ``queue``, due or not, claimed ones included."""
        ...

    async def earliest_due(self, queue: str) -> float | None:
        """The smallest ``due_at`` in ``queue`` (a claimed item counts at its lease's end), or
        None when it is empty: how overdue the queue's most overdue item is, for monitoring."""
        ...

    # --- documents: small JSON values by namespace and key (links, prefs, codes, dialogs) ----
    async def get_doc(self, ns: str, key: str) -> str | None:
        """The live value, or None (absent or expired)."""
        ...

    async def put_doc(self, ns: str, key: str, value: str, *, ttl_s: float | None = None) -> None:
        """Insert or replace; ``ttl_s`` makes it expire (None: never)."""
        ...

    async def swap_doc(
        self,
        ns: str,
        key: str,
        expected: str | None,
        value: str | None,
        *,
        ttl_s: float | None = None,
    ) -> bool:
        """Compare-and-set: if the live value equals ``expected`` (None: absent or expired), make
        it ``value`` (None: delete) and return True; otherwise change nothing and return False."""
        ...

    async def delete_doc(self, ns: str, key: str) -> None: ...

    async def list_docs(self, ns: str) -> dict[str, str]:
        """Every live document of a namespace, by key (namespaces are small: one per feature)."""
        ...

    # --- append-only lists (message references of a notification, the action log) ------------
    async def append(self, ns: str, key: str, value: str, *, max_len: int = 1000) -> None:
        """Add ``value`` at the end; past ``max_len`` the oldest values are dropped."""
        ...

    async def read_list(self, ns: str, key: str) -> list[str]:
        """The values in the order they were appended."""
        ...

    # --- a log by time (deliveries and presses, for reports) ---------------------------------
    async def add_log(self, ns: str, at: float, value: str) -> None:
        """Record ``value`` as of the moment ``at`` (epoch seconds)."""
        ...

    async def read_log(self, ns: str, since: float, until: float, *, limit: int) -> list[str]:
        """Values logged at ``since`` <= at < ``until``, oldest first (equal moments in any
        order), at most ``limit`` of them (the oldest)."""
        ...

    async def count_log(self, ns: str, since: float, until: float) -> int:
        """How many values are logged at ``since`` <= at < ``until`` (a rollup of a stretch
        checks that nothing came or went since it was made)."""
        ...

    async def trim_log(self, ns: str, before: float) -> int:
        """Drop the values logged before ``before``; returns how many went."""
        ...


def claims_queue(items: Sequence[DueItem]) -> str | None:
    """The one queue of ``items`` (None if there are none), for ``extend_claims``."""
    queues = {item.queue for item in items}
    if len(queues) > 1:
        raise ValueError(f"claims of several queues: {sorted(queues)}")
    return next(iter(queues), None)
