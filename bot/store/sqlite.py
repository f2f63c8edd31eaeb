"""The embedded ``Store``: one SQLite file through aiosqlite.

Several connections (processes, or two instances in one process) may share one file: the file is
in WAL mode, every connection waits for the write lock (``busy_timeout``) instead of failing, and
every read-modify-write runs inside ``BEGIN IMMEDIATE``, which takes the write lock before the
read, so two writers serialize instead of both acting on what they read.

Expiring rows (leases, seen keys, documents with a TTL) carry a wall-clock ``expires_at``; an
expired row counts as absent and is overwritten when its name is next used; expired seen keys
are also swept a few at a time by ``mark_seen``, expired documents by every document write.
Pacing reads the same wall clock, under the write lock.

One class over 400 lines on purpose: it implements the whole ``Store`` contract, one method per
operation of ``protocol.py`` in the same order, so that it reads side by side with ``redis.py``.

Tables (``user_version`` counts the migrations applied)::

    tokens, cursors, leases, slots, seen   one row per name (leases and seen keys expire)
    counters                               'rev': the store-wide revision sequence
    tasks, deals                           the entity cache; tasks indexed while open
    events                                 the journal, ``seq`` in journal order
    due_queues                             due queue name -> its number in ``due``
    due                                    the due-time index: ``visible_at`` is when the
                                           item can next be claimed; ``due_at`` (when it
                                           is not that) and ``token`` only once claimed
    docs                                   (ns, key) -> value; ``expires_at`` NULL: never
    list_items                             (ns, key, value) rows; ``seq`` (the rowid) orders
                                           a list's values, oldest first
    log_items                              (ns, at, value) rows, indexed by moment
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, Self

import aiosqlite

from bot.core import CrmEvent, Deal, OAuthTokens, Task
from bot.store.protocol import (
    Cached,
    CachedDeal,
    CachedTask,
    DueEntry,
    DueItem,
    EntityChange,
    OncePut,
    StoreFull,
    claims_queue,
)

# Index i holds the statements that take a file from ``user_version`` i to i + 1.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE tokens (name TEXT PRIMARY KEY, body TEXT NOT NULL)",
        "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL,"
        " expires_at REAL NOT NULL)",
        "CREATE TABLE slots (name TEXT PRIMARY KEY, next_at REAL NOT NULL)",
        "CREATE TABLE seen (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
        "CREATE INDEX seen_expiry ON seen (expires_at)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO counters (name, value) VALUES ('rev', 0)",
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, rev INTEGER NOT NULL,"
        " responsible_user_id INTEGER NOT NULL, complete_till INTEGER NOT NULL,"
        " is_open INTEGER NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX tasks_open ON tasks (complete_till, id) WHERE is_open",
        "CREATE INDEX tasks_open_by_user ON tasks (responsible_user_id, complete_till, id)"
        " WHERE is_open",
        "CREATE TABLE deals (id INTEGER PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,"
        " occurred_at INTEGER NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX events_time ON events (occurred_at, seq)",
        "CREATE TABLE due (queue TEXT NOT NULL, item_id TEXT NOT NULL, due_at REAL NOT NULL,"
        " visible_at REAL NOT NULL, payload TEXT NOT NULL, token TEXT NOT NULL,"
        " PRIMARY KEY (queue, item_id)) WITHOUT ROWID",
        "CREATE INDEX due_visible ON due (queue, visible_at, item_id)",
    ),
    (
        "CREATE TABLE docs (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " expires_at REAL, PRIMARY KEY (ns, key)) WITHOUT ROWID",
        "CREATE INDEX docs_expiry ON docs (expires_at) WHERE expires_at IS NOT NULL",
        # A new rowid is above every rowid in the table, so within one list it orders by append.
        "CREATE TABLE list_items (seq INTEGER PRIMARY KEY, ns TEXT NOT NULL, key TEXT NOT NULL,"
        " value TEXT NOT NULL)",
        "CREATE INDEX list_items_by_list ON list_items (ns, key, seq)",
    ),
    (
        "CREATE TABLE log_items (seq INTEGER PRIMARY KEY, ns TEXT NOT NULL, at REAL NOT NULL,"
        " value TEXT NOT NULL)",
        "CREATE INDEX log_items_by_time ON log_items (ns, at, seq)",
    ),
    # The due index, compact (bench/scheduler.py: 130 -> 67 bytes per pending reminder): the
    # queue by a small number, no token until the item is claimed, ``due_at`` only where it is
    # not ``visible_at`` (claimed, or held back), and no item id of its own in the time index
    # (a WITHOUT ROWID index carries the key anyway). A row never claimed (due_at equals
    # visible_at; a claim always moves visible_at past it) drops its token on the way.
    (
        "CREATE TABLE due_queues (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        "INSERT INTO due_queues (name) SELECT DISTINCT queue FROM due ORDER BY queue",
        "CREATE TABLE due_v4 (queue INTEGER NOT NULL, item_id TEXT NOT NULL,"
        " visible_at REAL NOT NULL, due_at REAL, payload TEXT NOT NULL, token TEXT,"
        " PRIMARY KEY (queue, item_id)) WITHOUT ROWID",
        "INSERT INTO due_v4 (queue, item_id, visible_at, due_at, payload, token)"
        " SELECT q.id, d.item_id, d.visible_at,"
        " CASE WHEN d.due_at = d.visible_at THEN NULL ELSE d.due_at END, d.payload,"
        " CASE WHEN d.due_at = d.visible_at THEN NULL ELSE d.token END"
        " FROM due AS d JOIN due_queues AS q ON q.name = d.queue",
        "DROP TABLE due",
        "ALTER TABLE due_v4 RENAME TO due",
        "CREATE INDEX due_visible ON due (queue, visible_at)",
    ),
    # The amoCRM pace as a window of the moments last reserved (``reserve_in_window``).
    ("CREATE TABLE windows (name TEXT PRIMARY KEY, recent TEXT NOT NULL)",),
)
SCHEMA_VERSION = len(_MIGRATIONS)

_BUSY_TIMEOUT_MS = 10_000
_SWEEP_BATCH = 100  # expired rows removed per write, so a sweep never stalls a caller
# SQLite before 3.32 allows 999 parameters per statement; a due row takes 5.
_ROWS_PER_STATEMENT = 999 // 5
_KEYS_PER_READ = 900  # under SQLite's oldest limit of 999 parameters a statement
_IDS_PER_STATEMENT = 999
_CLAIMS_PER_STATEMENT = (999 - 2) // 3  # an id, and the id with its token
# A put leaves the token NULL (a claim sets one) and ``due_at`` NULL where it is the moment the
# item becomes visible (``_due_row``); a claim reads ``coalesce(due_at, visible_at)``.
_PUT_DUE = "INSERT OR REPLACE INTO due (queue, item_id, visible_at, due_at, payload, token) VALUES"
_ROW = "(?, ?, ?, ?, ?, NULL)"


def _new_token() -> str:
    return uuid.uuid4().hex


# SQLite's own ceiling for max_page_count: setting it lifts a cap.
_NO_PAGE_CAP = 4294967294


def _is_full(exc: BaseException) -> bool:
    """SQLITE_FULL: the disk (or the page cap) has no room for the write."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    )


class SqliteStore:
    """``Store`` on one SQLite file. Open with ``await SqliteStore.open(path)``."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # One connection cannot run two transactions at once: calls of this instance take turns.
        self._lock = asyncio.Lock()
        self._closed = False
        # Due queues by name -> their number in ``due``. Numbers are never reused or changed, so
        # the instances sharing a file may each keep what they have read.
        self._queues: dict[str, int] = {}

    @classmethod
    async def open(cls, path: str) -> Self:
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            # busy_timeout first: going WAL and migrating take locks another opener may hold.
            await db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a crash of the process, not of the machine,
            # and costs no fsync; what must survive power loss (a refreshed OAuth pair, whose
            # predecessor amoCRM has already revoked) is written with ``durable=True``.
            await db.execute("PRAGMA synchronous = NORMAL")
            store = cls(db)
            await store._migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def _migrate(self) -> None:
        async with self._write() as db:
            version = await self._scalar_int(db, "PRAGMA user_version")
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"store schema version {version} is newer than this code ({SCHEMA_VERSION})"
                )
            for statements in _MIGRATIONS[version:]:
                for statement in statements:
                    await db.execute(statement)
            if version != SCHEMA_VERSION:
                await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    async def _scalar_int(db: aiosqlite.Connection, sql: str) -> int:
        async with db.execute(sql) as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    @asynccontextmanager
    async def _write(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: the write lock is taken before anything is read.

        ``durable``: the commit is fsynced (survives power loss), at the cost of the fsync.
        """
        async with self._lock:
            if durable:
                await self._db.execute("PRAGMA synchronous = FULL")
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException as exc:
                # The connection's thread runs statements in order, so this ROLLBACK also undoes
                # a BEGIN or a write whose await was cancelled; if no transaction is left (BEGIN
                # timed out, COMMIT went through) it fails, and that is fine.
                with contextlib.suppress(sqlite3.OperationalError):
                    await self._db.execute("ROLLBACK")
                if _is_full(exc):
                    raise StoreFull(f"SQLite: {exc}") from None
                raise
            finally:
                if durable:
                    await self._db.execute("PRAGMA synchronous = NORMAL")

    async def cap_size(self, max_bytes: int | None) -> None:
        """Let the file grow to ``max_bytes`` at most (None: no cap but SQLite's own); past it a
        write fails as on a full disk (``StoreFull``). A cap below the file's size holds it at
        its size. For a deployment that must leave room on a shared disk, and for tests."""
        async with self._lock:
            page = await self._scalar_int(self._db, "PRAGMA page_size")
            pages = _NO_PAGE_CAP if max_bytes is None else max(1, max_bytes // page)
            await self._db.execute(f"PRAGMA max_page_count = {pages}")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[aiosqlite.Connection]:
        # A single SELECT is its own snapshot; the lock only keeps it out of our own transaction.
        async with self._lock:
            yield self._db

    # One trip to the connection's thread per query (execute_fetchall), not three (execute,
    # fetch, close): under a burst of reminders those trips, each waiting for a busy event loop,
    # were most of a read's cost (bench/scheduler.py).
    async def _fetchone(
        self, db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
    ) -> sqlite3.Row | None:
        rows = list(await db.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def _fetchall(
        self, db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
    ) -> list[sqlite3.Row]:
        return list(await db.execute_fetchall(sql, params))

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._db.close()

    async def ping(self) -> None:
        async with self._read() as db:
            await self._fetchone(db, "SELECT 1")

    # --- OAuth tokens ------------------------------------------------------------------------
    async def load_tokens(self, name: str) -> OAuthTokens | None:
        async with self._read() as db:
            row = await self._fetchone(db, "SELECT body FROM tokens WHERE name = ?", (name,))
        return None if row is None else OAuthTokens.model_validate_json(row[0])

    async def save_tokens(self, name: str, tokens: OAuthTokens) -> None:
        async with self._write(durable=True) as db:
            await db.execute(
                "INSERT INTO tokens (name, body) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                (name, tokens.model_dump_json()),
            )

    # --- leases ------------------------------------------------------------------------------
    async def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        async with self._write() as db:
            now = time.time()
            row = await self._fetchone(
                db, "SELECT owner, expires_at FROM leases WHERE name = ?", (name,)
            )
            if row is not None and row[0] != owner and float(row[1]) > now:
                return False
            await db.execute(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE"
                " SET owner = excluded.owner, expires_at = excluded.expires_at",
                (name, owner, now + ttl_s),
            )
            return True

    async def release_lease(self, name: str, owner: str) -> None:
        async with self._write() as db:
            await db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    # --- pacing ------------------------------------------------------------------------------
    async def reserve_slot(self, name: str, interval_s: float) -> float:
        async with self._write() as db:
            # Read the clock under the write lock, so slots are handed out in clock order.
            now = time.time()
            row = await self._fetchone(db, "SELECT next_at FROM slots WHERE name = ?", (name,))
            slot = now if row is None else max(now, float(row[0]))
            await db.execute(
                "INSERT INTO slots (name, next_at) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET next_at = excluded.next_at",
                (name, slot + interval_s),
            )
        return slot - now

    async def reserve_in_window(self, name: str, count: int, window_s: float) -> float:
        return await self._in_window(name, count, window_s, None)

    async def take_in_window(self, name: str, count: int, window_s: float, room: int) -> float:
        return await self._in_window(name, count, window_s, max(1, min(room, count)))

    async def _in_window(self, name: str, count: int, window_s: float, room: int | None) -> float:
        async with self._write() as db:
            now = time.time()  # under the write lock: moments are handed out in clock order
            row = await self._fetchone(db, "SELECT recent FROM windows WHERE name = ?", (name,))
            recent = [] if row is None else [float(x) for x in str(row[0]).split()]
            slot = max([now, *recent[-1:]])
            limit = count if room is None else room
            if len(recent) >= limit:
                slot = max(slot, recent[-limit] + window_s)
            if room is not None and slot > now:
                return slot - now  # not taken: the caller asks again then
            kept = " ".join(repr(x) for x in [*recent, slot][-count:])
            await db.execute(
                "INSERT INTO windows (name, recent) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET recent = excluded.recent",
                (name, kept),
            )
        return slot - now

    # --- cursors and dedupe ------------------------------------------------------------------
    async def get_cursor(self, name: str) -> str | None:
        async with self._read() as db:
            row = await self._fetchone(db, "SELECT value FROM cursors WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    async def set_cursor(self, name: str, value: str) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO cursors (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    async def mark_seen(self, key: str, ttl_s: float) -> bool:
        async with self._write() as db:
            return await self._mark_seen(db, key, ttl_s)

    @staticmethod
    async def _mark_seen(db: aiosqlite.Connection, key: str, ttl_s: float) -> bool:
        now = time.time()
        await db.execute(
            "DELETE FROM seen WHERE key IN (SELECT key FROM seen WHERE expires_at <= ? LIMIT ?)",
            (now, _SWEEP_BATCH),
        )
        # The sweep may have left this key (batch limit), so the upsert re-checks expiry.
        # Not closed (a trip of its own): a finished INSERT holds nothing.
        cur = await db.execute(
            "INSERT INTO seen (key, expires_at) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at"
            " WHERE seen.expires_at <= ?",
            (key, now + ttl_s, now),
        )
        return cur.rowcount == 1

    # --- task and deal cache -----------------------------------------------------------------
    async def get_task(self, task_id: int) -> Cached[Task] | None:
        if (row := await self._cached_row("tasks", task_id)) is None:
            return None
        return CachedTask(value=Task.model_validate_json(row[0]), rev=int(row[1]))

    async def get_deal(self, deal_id: int) -> Cached[Deal] | None:
        if (row := await self._cached_row("deals", deal_id)) is None:
            return None
        return CachedDeal(value=Deal.model_validate_json(row[0]), rev=int(row[1]))

    async def get_tasks(self, task_ids: Sequence[int]) -> dict[int, Cached[Task]]:
        return {
            int(row[0]): CachedTask(value=Task.model_validate_json(row[1]), rev=int(row[2]))
            for row in await self._cached_rows("tasks", task_ids)
        }

    async def get_deals(self, deal_ids: Sequence[int]) -> dict[int, Cached[Deal]]:
        return {
            int(row[0]): CachedDeal(value=Deal.model_validate_json(row[1]), rev=int(row[2]))
            for row in await self._cached_rows("deals", deal_ids)
        }

    async def _cached_rows(
        self, table: Literal["tasks", "deals"], entity_ids: Sequence[int]
    ) -> list[sqlite3.Row]:
        """(id, body, rev) of the cached ones, a statement per ``_IDS_PER_STATEMENT``."""
        ids = sorted(set(entity_ids))
        rows: list[sqlite3.Row] = []
        async with self._read() as db:
            for first in range(0, len(ids), _IDS_PER_STATEMENT):
                chunk = ids[first : first + _IDS_PER_STATEMENT]
                marks = ", ".join("?" * len(chunk))
                rows += await self._fetchall(
                    db, f"SELECT id, body, rev FROM {table} WHERE id IN ({marks})", chunk
                )
        return rows

    async def _cached_row(
        self, table: Literal["tasks", "deals"], entity_id: int
    ) -> sqlite3.Row | None:
        """The cached entity's body and revision, or None (the two tables are alike)."""
        async with self._read() as db:
            return await self._fetchone(
                db, f"SELECT body, rev FROM {table} WHERE id = ?", (entity_id,)
            )

    async def list_open_tasks(self, responsible_user_id: int | None = None) -> list[Task]:
        async with self._read() as db:
            if responsible_user_id is None:
                rows = await self._fetchall(
                    db, "SELECT body FROM tasks WHERE is_open ORDER BY complete_till, id"
                )
            else:
                rows = await self._fetchall(
                    db,
                    "SELECT body FROM tasks WHERE is_open AND responsible_user_id = ?"
                    " ORDER BY complete_till, id",
                    (responsible_user_id,),
                )
        return [Task.model_validate_json(row[0]) for row in rows]

    async def apply_change(self, change: EntityChange) -> tuple[CrmEvent, ...] | None:
        _check_change(change)
        table = "tasks" if change.kind == "task" else "deals"
        queues = [await self._queue_number(q) for q in change.fanout]
        async with self._write() as db:
            row = await self._fetchone(db, f"SELECT rev FROM {table} WHERE id = ?", (change.id,))
            if (None if row is None else int(row[0])) != change.expected_rev:
                return None
            new = change.new
            if new is None:
                await db.execute(f"DELETE FROM {table} WHERE id = ?", (change.id,))
            else:
                # Revisions come from one store-wide counter, so a number is never reused, not
                # even after the entity is deleted and cached again.
                rev = await self._scalar_int(
                    db, "UPDATE counters SET value = value + 1 WHERE name = 'rev' RETURNING value"
                )
                if isinstance(new, Task):
                    await db.execute(
                        "INSERT OR REPLACE INTO tasks"
                        " (id, rev, responsible_user_id, complete_till, is_open, body)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            new.id,
                            rev,
                            new.responsible_user_id,
                            new.complete_till,
                            int(not new.is_completed),
                            new.model_dump_json(),
                        ),
                    )
                else:
                    await db.execute(
                        "INSERT OR REPLACE INTO deals (id, rev, body) VALUES (?, ?, ?)",
                        (new.id, rev, new.model_dump_json()),
                    )
            journaled = []
            for event in change.events:
                cursor = await db.execute(
                    "INSERT INTO events (key, occurred_at, body) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    (event.key, event.occurred_at, event.model_dump_json()),
                )
                if cursor.rowcount == 1:
                    journaled.append(event)
            fanout = [
                _due_row(queue, e.key, e.occurred_at, e.model_dump_json(), change.hold_until)
                for e in journaled
                for queue in queues
            ]
            if fanout:
                await db.executemany(f"{_PUT_DUE} {_ROW}", fanout)
            return tuple(journaled)

    async def recent_events(self, since: int = 0, limit: int = 1000) -> list[CrmEvent]:
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                "SELECT body FROM events WHERE occurred_at >= ? ORDER BY occurred_at, seq LIMIT ?",
                (since, max(limit, 0)),
            )
        return [CrmEvent.model_validate_json(row[0]) for row in rows]

    # --- due-time index -----------------------------------------------------------------------
    async def put_due(self, queue: str, item_id: str, due_at: float, payload: str = "") -> None:
        await self.put_due_many(queue, [DueEntry(item_id=item_id, due_at=due_at, payload=payload)])

    async def put_due_many(self, queue: str, entries: Sequence[DueEntry]) -> None:
        if not entries:
            return
        number = await self._queue_number(queue)
        rows = [_due_row(number, e.item_id, e.due_at, e.payload) for e in entries]
        if len(rows) <= _ROWS_PER_STATEMENT:
            # One statement is its own transaction: one trip to the connection's thread instead
            # of three (BEGIN, insert, COMMIT). This is the webhook inbox's write, and under load
            # those trips, each waiting for a busy event loop, were most of a webhook's latency.
            values = ", ".join([_ROW] * len(rows))
            async with self._lock:
                with _full_is_store_full():
                    await self._db.execute(
                        f"{_PUT_DUE} {values}", [v for row in rows for v in row]
                    )
            return
        async with self._write() as db:
            await db.executemany(f"{_PUT_DUE} {_ROW}", rows)

    async def put_due_once(
        self, queue: str, entries: Sequence[DueEntry], key: str, ttl_s: float
    ) -> bool:
        number = await self._queue_number(queue)
        async with self._write() as db:
            if not await self._mark_seen(db, key, ttl_s):
                return False
            rows = [_due_row(number, e.item_id, e.due_at, e.payload) for e in entries]
            await db.executemany(f"{_PUT_DUE} {_ROW}", rows)
            return True

    async def put_due_once_many(self, puts: Sequence[OncePut]) -> list[bool]:
        if not puts:
            return []
        numbers = {q: await self._queue_number(q) for q in dict.fromkeys(p.queue for p in puts)}
        done: list[bool] = []
        marks: list[tuple[str, float]] = []
        rows: list[tuple[int, str, float, float | None, str]] = []
        async with self._write() as db:
            # The live keys in a read or two, and every mark and entry in one statement each:
            # a statement per key cost a burst of reminders more than the rest of the write.
            now = time.time()
            await db.execute(  # expired marks go, a batch at a time, as in mark_seen
                "DELETE FROM seen WHERE key IN"
                " (SELECT key FROM seen WHERE expires_at <= ? LIMIT ?)",
                (now, _SWEEP_BATCH),
            )
            live = await self._live_seen(db, list(dict.fromkeys(p.key for p in puts)), now)
            for put in puts:
                done.append(put.key not in live)
                if done[-1]:
                    live.add(put.key)  # the same key later in the call: a repeat
                    marks.append((put.key, now + put.ttl_s))
                    number = numbers[put.queue]
                    rows += [_due_row(number, e.item_id, e.due_at, e.payload) for e in put.entries]
            if marks:
                await db.executemany(
                    "INSERT OR REPLACE INTO seen (key, expires_at) VALUES (?, ?)", marks
                )
            if rows:
                await db.executemany(f"{_PUT_DUE} {_ROW}", rows)
        return done

    async def _live_seen(self, db: aiosqlite.Connection, keys: list[str], now: float) -> set[str]:
        """Which of ``keys`` are marked and not expired (in reads of a bounded size)."""
        live: set[str] = set()
        for at in range(0, len(keys), _KEYS_PER_READ):
            chunk = keys[at : at + _KEYS_PER_READ]
            found = await self._fetchall(
                db,
                "SELECT key FROM seen WHERE expires_at > ? AND key IN"
                f" ({', '.join('?' * len(chunk))})",
                (now, *chunk),
            )
            live.update(str(row[0]) for row in found)
        return live

    async def _queue_number(self, name: str) -> int:
        """The due queue's number, given to it the first time it is written to.

        In statements of its own, committed before the write that uses it: a number handed out
        inside a write that then rolls back would be handed out again, to another queue.
        """
        number = await self._known_queue(name)
        if number is None:
            async with self._lock:
                with _full_is_store_full():
                    await self._db.execute(
                        "INSERT INTO due_queues (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                        (name,),
                    )
            number = await self._known_queue(name)
            assert number is not None
        return number

    async def _known_queue(self, name: str) -> int | None:
        """The due queue's number, or None if nothing was ever put into it."""
        if (number := self._queues.get(name)) is None:
            async with self._read() as db:
                row = await self._fetchone(db, "SELECT id FROM due_queues WHERE name = ?", (name,))
            if row is None:
                return None
            number = self._queues[name] = int(row[0])
        return number

    async def claim_due(self, queue: str, now: float, limit: int, lease_s: float) -> list[DueItem]:
        if limit <= 0 or (number := await self._known_queue(queue)) is None:
            return []
        claimed: list[DueItem] = []
        async with self._write() as db:
            rows = await self._fetchall(
                db,
                "SELECT item_id, coalesce(due_at, visible_at), payload FROM due"
                " WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, item_id LIMIT ?",
                (number, now, limit),
            )
            for item_id, due_at, payload in rows:
                item = DueItem(
                    queue=queue,
                    item_id=item_id,
                    due_at=due_at,
                    payload=payload,
                    token=_new_token(),
                )
                claimed.append(item)
            # The moment it was due is kept once visible_at moves past it.
            await db.executemany(
                "UPDATE due SET due_at = coalesce(due_at, visible_at), visible_at = ?, token = ?"
                " WHERE queue = ? AND item_id = ?",
                [(now + lease_s, i.token, number, i.item_id) for i in claimed],
            )
        return claimed

    async def complete_due(self, item: DueItem) -> bool:
        if (number := await self._known_queue(item.queue)) is None:
            return False
        async with (
            self._write() as db,
            db.execute(
                "DELETE FROM due WHERE queue = ? AND item_id = ? AND token = ?",
                (number, item.item_id, item.token),
            ) as cur,
        ):
            return cur.rowcount == 1

    async def extend_claims(self, items: Sequence[DueItem], until: float) -> frozenset[str]:
        queue = claims_queue(items)
        if queue is None or (number := await self._known_queue(queue)) is None:
            return frozenset()
        held: set[str] = set()
        async with self._write() as db:
            # A statement per few hundred claims, not per claim (a burst of reminders drawn
            # ahead is 10,000: 0.9 s one by one). ``item_id IN`` is what lets the primary key
            # be searched; the pairs are what is held.
            for first in range(0, len(items), _CLAIMS_PER_STATEMENT):
                chunk = items[first : first + _CLAIMS_PER_STATEMENT]
                rows = await self._fetchall(
                    db,
                    f"UPDATE due SET visible_at = ? WHERE queue = ? AND item_id IN"
                    f" ({', '.join('?' * len(chunk))}) AND (item_id, token) IN"
                    f" (VALUES {', '.join(['(?, ?)'] * len(chunk))}) RETURNING item_id",
                    (until, number, *(i.item_id for i in chunk),
                     *(x for i in chunk for x in (i.item_id, i.token))),
                )  # fmt: skip
                held.update(row[0] for row in rows)
        return frozenset(held)

    async def cancel_due(self, queue: str, item_id: str) -> None:
        if (number := await self._known_queue(queue)) is None:
            return
        async with self._write() as db:
            await db.execute("DELETE FROM due WHERE queue = ? AND item_id = ?", (number, item_id))

    async def count_due(self, queue: str) -> int:
        if (number := await self._known_queue(queue)) is None:
            return 0
        async with self._read() as db:
            row = await self._fetchone(db, "SELECT count(*) FROM due WHERE queue = ?", (number,))
        assert row is not None
        return int(row[0])

    async def earliest_due(self, queue: str) -> float | None:
        if (number := await self._known_queue(queue)) is None:
            return None
        async with self._read() as db:
            row = await self._fetchone(
                db, "SELECT min(visible_at) FROM due WHERE queue = ?", (number,)
            )
        return None if row is None or row[0] is None else float(row[0])

    # --- documents ---------------------------------------------------------------------------
    async def get_doc(self, ns: str, key: str) -> str | None:
        async with self._read() as db:
            row = await self._fetchone(
                db,
                "SELECT value FROM docs WHERE ns = ? AND key = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (ns, key, time.time()),
            )
        return None if row is None else str(row[0])

    async def put_doc(self, ns: str, key: str, value: str, *, ttl_s: float | None = None) -> None:
        async with self._write() as db:
            now = time.time()
            await self._sweep_docs(db, now)
            await self._set_doc(db, ns, key, value, None if ttl_s is None else now + ttl_s)

    async def swap_doc(
        self,
        ns: str,
        key: str,
        expected: str | None,
        value: str | None,
        *,
        ttl_s: float | None = None,
    ) -> bool:
        async with self._write() as db:
            now = time.time()
            await self._sweep_docs(db, now)
            # The sweep may have left this row (batch limit), so the read re-checks expiry.
            row = await self._fetchone(
                db,
                "SELECT value FROM docs WHERE ns = ? AND key = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (ns, key, now),
            )
            if (None if row is None else str(row[0])) != expected:
                return False
            if value is None:
                await db.execute("DELETE FROM docs WHERE ns = ? AND key = ?", (ns, key))
            else:
                await self._set_doc(db, ns, key, value, None if ttl_s is None else now + ttl_s)
            return True

    async def delete_doc(self, ns: str, key: str) -> None:
        async with self._write() as db:
            await self._sweep_docs(db, time.time())
            await db.execute("DELETE FROM docs WHERE ns = ? AND key = ?", (ns, key))

    async def list_docs(self, ns: str) -> dict[str, str]:
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                "SELECT key, value FROM docs WHERE ns = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (ns, time.time()),
            )
        return {str(row[0]): str(row[1]) for row in rows}

    @staticmethod
    async def _set_doc(
        db: aiosqlite.Connection, ns: str, key: str, value: str, expires_at: float | None
    ) -> None:
        await db.execute(
            "INSERT INTO docs (ns, key, value, expires_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (ns, key) DO UPDATE"
            " SET value = excluded.value, expires_at = excluded.expires_at",
            (ns, key, value, expires_at),
        )

    @staticmethod
    async def _sweep_docs(db: aiosqlite.Connection, now: float) -> None:
        """Remove a few expired documents (of any namespace), inside the caller's write."""
        await db.execute(
            "DELETE FROM docs WHERE (ns, key) IN"
            " (SELECT ns, key FROM docs WHERE expires_at <= ? LIMIT ?)",
            (now, _SWEEP_BATCH),
        )

    # --- append-only lists -------------------------------------------------------------------
    async def append(self, ns: str, key: str, value: str, *, max_len: int = 1000) -> None:
        _check_max_len(max_len)
        async with self._write() as db:
            await db.execute(
                "INSERT INTO list_items (ns, key, value) VALUES (?, ?, ?)", (ns, key, value)
            )
            # Everything at or before the (max_len + 1)-th newest value goes.
            await db.execute(
                "DELETE FROM list_items WHERE ns = ? AND key = ? AND seq <= ("
                " SELECT seq FROM list_items WHERE ns = ? AND key = ?"
                " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (ns, key, ns, key, max_len),
            )

    async def read_list(self, ns: str, key: str) -> list[str]:
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                "SELECT value FROM list_items WHERE ns = ? AND key = ? ORDER BY seq",
                (ns, key),
            )
        return [str(row[0]) for row in rows]

    # --- a log by time -----------------------------------------------------------------------
    async def add_log(self, ns: str, at: float, value: str) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO log_items (ns, at, value) VALUES (?, ?, ?)", (ns, at, value)
            )

    async def read_log(self, ns: str, since: float, until: float, *, limit: int) -> list[str]:
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                "SELECT value FROM log_items WHERE ns = ? AND at >= ? AND at < ?"
                " ORDER BY at, seq LIMIT ?",
                (ns, since, until, limit),
            )
        return [str(row[0]) for row in rows]

    async def count_log(self, ns: str, since: float, until: float) -> int:
        async with self._read() as db:
            row = await self._fetchone(
                db,
                "SELECT COUNT(*) FROM log_items WHERE ns = ? AND at >= ? AND at < ?",
                (ns, since, until),
            )
        return 0 if row is None else int(row[0])

    async def trim_log(self, ns: str, before: float) -> int:
        async with self._write() as db:
            cur = await db.execute("DELETE FROM log_items WHERE ns = ? AND at < ?", (ns, before))
            return cur.rowcount


def _due_row(
    queue: int, item_id: str, due_at: float, payload: str, visible_at: float | None = None
) -> tuple[int, str, float, float | None, str]:
    """A due row as ``_PUT_DUE`` takes it: visible from ``visible_at`` (default: ``due_at``);
    ``due_at`` is left out (NULL) where it is the same moment."""
    if visible_at is None or visible_at == due_at:
        return (queue, item_id, due_at, None, payload)
    return (queue, item_id, visible_at, due_at, payload)


@contextlib.contextmanager
def _full_is_store_full() -> Iterator[None]:
    """A statement run outside ``_write`` (its own transaction) reports a full disk the same."""
    try:
        yield
    except sqlite3.Error as exc:
        if _is_full(exc):
            raise StoreFull(f"SQLite: {exc}") from None
        raise


def _check_max_len(max_len: int) -> None:
    """A list that may hold nothing is a caller bug: refuse it loudly."""
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, not {max_len}")


def _check_change(change: EntityChange) -> None:
    """A change whose entity does not match its kind and id is a caller bug: refuse it loudly."""
    new = change.new
    if new is None:
        return
    expected_type = Task if change.kind == "task" else Deal
    if not isinstance(new, expected_type) or new.id != change.id:
        raise ValueError(
            f"change for {change.kind} {change.id} carries {type(new).__name__} {new.id}"
        )
