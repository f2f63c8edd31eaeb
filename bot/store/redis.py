"""The shared ``Store``: Redis, for several replicas.

Every read-modify-write is one Lua script, so it runs atomically on the server whichever replica
sends it. Expiring keys (leases, seen keys, pacing slots) use Redis TTLs, and pacing reads the
server clock, so all replicas share one timeline whatever their own clocks say.

Key layout, under ``key_prefix`` (``P``)::

    P tokens:<name>          string  OAuthTokens JSON
    P cursor:<name>          string  the cursor
    P lease:<name>           string  the owner, PX = ttl
    P slot:<name>            string  next free moment, µs on the server clock; expires once past
    P seen:<key>             string  "1", PX = ttl
    P task:<id>, deal:<id>   hash    rev, value (JSON); tasks that are open also open_uid
    P rev                    counter the store-wide revision sequence
    P open:all               zset    open task ids by complete_till
    P open:user:<uid>        zset    the same, per responsible user
    P events                 zset    "<seq, 16 digits>:<CrmEvent JSON>" by occurred_at
    P events:keys            set     journaled event keys (dedupe)
    P events:seq             counter journal order, for events that share an occurred_at
    P due:<queue>            zset    item ids by the moment they can next be claimed
    P dueitems:<queue>       hash    item id -> "<token>\\n<due_at>\\n<payload>"
    P docs:<ns>              hash    document key -> value
    P docexp:<ns>            zset    keys of the documents of ``docs:<ns>`` that expire, by the
                                     moment they do (ms on the server clock)
    P list:<n>:<ns>:<key>    list    appended values, oldest first; ``n`` is ``len(ns)``, so a
                                     ``:`` in ``ns`` or ``key`` cannot make two lists one
    P log:<ns>               zset    "<32 hex>:<value>" by the moment logged (the random head
                                     keeps two equal values apart)

A document with a TTL stays in its hash until a write to its namespace (a few at a time) or
``list_docs`` (all of them) sweeps it; until then every read checks ``docexp`` on the server
clock, so an expired document is absent everywhere the moment it expires.

Scripts build some keys from ``P`` (the per-entity and per-user ones); on Redis Cluster give a
prefix with a hash tag, e.g. ``{amobridge}:``, so that every key lives in one slot.

One class over 400 lines on purpose: it implements the whole ``Store`` contract, one method per
operation of ``protocol.py`` in the same order as ``sqlite.py``; its Lua scripts are above it.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import cast

from redis.asyncio import BlockingConnectionPool, Redis

from bot.core import CrmEvent, Deal, OAuthTokens, Task
from bot.store.protocol import Cached, DueEntry, DueItem, EntityChange, OncePut, claims_queue

_ACQUIRE_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
"""

# Microseconds as Lua numbers (doubles) stay exact up to 2^53, and '%d' keeps every digit where
# tostring() would round to 14 significant ones.
_RESERVE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = now
local booked = redis.call('GET', KEYS[1])
if booked and tonumber(booked) > now then
  slot = tonumber(booked)
end
local after = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', after), 'PX',
           math.floor((after - now) / 1000) + 1000)
return slot - now
"""

# KEYS: entity hash, rev counter, events zset, event keys set, events seq counter, open:all, then
# a (due zset, items hash) pair per fan-out queue.
# ARGV: expected rev ('' = absent), new JSON ('' = delete), id, open owner ('' = not an open
# task), complete_till, open:user: prefix, the fan-out hold (visible from), then one (key,
# occurred_at, JSON) triple per event. A fan-out entry's token is 'j' and the journal sequence:
# unique, since an event is journaled once.
_APPLY_CHANGE = """
local rev = redis.call('HGET', KEYS[1], 'rev')
if rev == false then rev = '' end
if rev ~= ARGV[1] then
  return {0}
end
local was_open_for = redis.call('HGET', KEYS[1], 'open_uid')
if was_open_for then
  redis.call('ZREM', ARGV[6] .. was_open_for, ARGV[3])
  redis.call('ZREM', KEYS[6], ARGV[3])
end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'rev', redis.call('INCR', KEYS[2]), 'value', ARGV[2])
  if ARGV[4] ~= '' then
    redis.call('HSET', KEYS[1], 'open_uid', ARGV[4])
    redis.call('ZADD', ARGV[6] .. ARGV[4], ARGV[5], ARGV[3])
    redis.call('ZADD', KEYS[6], ARGV[5], ARGV[3])
  end
end
local out = {1}
for i = 8, #ARGV, 3 do
  if redis.call('SADD', KEYS[4], ARGV[i]) == 1 then
    local seq = redis.call('INCR', KEYS[5])
    redis.call('ZADD', KEYS[3], ARGV[i + 1], string.format('%016d', seq) .. ':' .. ARGV[i + 2])
    for q = 7, #KEYS, 2 do
      redis.call('ZADD', KEYS[q], ARGV[7], ARGV[i])
      local entry = 'j' .. seq .. '\\n' .. ARGV[i + 1] .. '\\n' .. ARGV[i + 2]
      redis.call('HSET', KEYS[q + 1], ARGV[i], entry)
    end
    out[#out + 1] = (i - 8) / 3
  end
end
return out
"""

_LIST_OPEN_TASKS = """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local value = redis.call('HGET', ARGV[1] .. id, 'value')
  if value then
    out[#out + 1] = value
  end
end
return out
"""

# KEYS: due zset, items hash. ARGV[1]: a JSON array of (item id, due_at, entry) triples, flat.
# One argument, not three per item: redis-py encodes each argument in Python, and for the
# webhook inbox's batches that took longer than everything else in the write.
_PUT_DUE_MANY = """
local flat = cjson.decode(ARGV[1])
for i = 1, #flat, 3 do
  redis.call('ZADD', KEYS[1], flat[i + 1], flat[i])
  redis.call('HSET', KEYS[2], flat[i], flat[i + 2])
end
return #flat / 3
"""

# KEYS: the seen key, due zset, items hash. ARGV: the seen key's ttl (ms), then one (item id,
# due_at, entry) triple per item.
_PUT_DUE_ONCE = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
for i = 2, #ARGV, 3 do
  redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 2])
end
return 1
"""

# KEYS: per put its seen key, due zset and items hash. ARGV[1]: a JSON array, per put its ttl
# (ms) and a flat array of (item id, due_at, entry) triples. Returns a 0/1 per put.
_PUT_DUE_ONCE_MANY = """
local puts = cjson.decode(ARGV[1])
local done = {}
for p = 1, #puts do
  local k = (p - 1) * 3
  if redis.call('SET', KEYS[k + 1], '1', 'NX', 'PX', puts[p][1]) then
    local flat = puts[p][2]
    for i = 1, #flat, 3 do
      redis.call('ZADD', KEYS[k + 2], flat[i + 1], flat[i])
      redis.call('HSET', KEYS[k + 3], flat[i], flat[i + 2])
    end
    done[p] = 1
  else
    done[p] = 0
  end
end
return done
"""

# KEYS: due zset, items hash. ARGV: now, limit, hidden until, then one fresh token per slot.
_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do
  local entry = redis.call('HGET', KEYS[2], id)
  local rest = entry and string.match(entry, '^[^\\n]*\\n(.*)$')
  if rest then
    local token = ARGV[3 + i]
    redis.call('HSET', KEYS[2], id, token .. '\\n' .. rest)
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = token
    out[#out + 1] = rest
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""

_COMPLETE_DUE = """
local entry = redis.call('HGET', KEYS[2], ARGV[1])
local expected = ARGV[2] .. '\\n'
if entry and string.sub(entry, 1, #expected) == expected then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# KEYS: due zset, items hash. ARGV: hidden until, then (id, token) pairs. Returns the ids whose
# entry still carries the token, now hidden until then.
_EXTEND_CLAIMS = """
local held = {}
for i = 2, #ARGV, 2 do
  local entry = redis.call('HGET', KEYS[2], ARGV[i])
  local expected = ARGV[i + 1] .. '\\n'
  if entry and string.sub(entry, 1, #expected) == expected then
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
    held[#held + 1] = ARGV[i]
  end
end
return held
"""

# Documents: KEYS[1] the docs:<ns> hash, KEYS[2] its docexp:<ns> zset. Every document script
# starts with this: ``now`` (ms on the server clock, '%d' keeps every digit as for slots),
# ``live(field)``, the value unless expired, and ``sweep(limit)``, which removes expired ones.
_DOC_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now_s = string.format('%d', now)
local function live(field)
  local value = redis.call('HGET', KEYS[1], field)
  if value then
    local expires = redis.call('ZSCORE', KEYS[2], field)
    if expires and tonumber(expires) <= now then
      return false
    end
  end
  return value
end
local function sweep(limit)
  local args = {'-inf', now_s}
  if limit then
    args = {'-inf', now_s, 'LIMIT', 0, limit}
  end
  for _, field in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], unpack(args))) do
    redis.call('HDEL', KEYS[1], field)
    redis.call('ZREM', KEYS[2], field)
  end
end
"""

_GET_DOC = (
    _DOC_PRELUDE
    + """
return live(ARGV[1])
"""
)

# ARGV: key, compare ('1': only if the live value is the expected one), expected present ('1'),
# expected, value present ('1'; else delete), value, TTL in ms ('': never expires).
_SET_DOC = (
    _DOC_PRELUDE
    + """
sweep(100)  -- a few at a time, so a sweep never stalls a write
if ARGV[2] == '1' then
  local current = live(ARGV[1])
  if ARGV[3] == '1' then
    if current ~= ARGV[4] then return 0 end
  elseif current then
    return 0
  end
end
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[6])
  if ARGV[7] ~= '' then
    redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[7])), ARGV[1])
  else
    redis.call('ZREM', KEYS[2], ARGV[1])
  end
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""
)

_LIST_DOCS = (
    _DOC_PRELUDE
    + """
sweep(nil)
return redis.call('HGETALL', KEYS[1])
"""
)

_MAX_CONNECTIONS = 50
_POOL_WAIT_S = 20.0
_SEQ_WIDTH = 16  # digits of the journal sequence in front of each event in P events


def _ms(seconds: float) -> int:
    """Redis TTLs are whole milliseconds and must be positive."""
    return max(1, math.ceil(seconds * 1000))


def _new_token() -> str:
    return uuid.uuid4().hex


class RedisStore:
    """``Store`` on Redis. Open with ``await RedisStore.open(url, key_prefix=...)``."""

    def __init__(self, client: Redis, key_prefix: str) -> None:
        self._redis = client
        self._p = key_prefix
        self._closed = False
        self._acquire_lease = client.register_script(_ACQUIRE_LEASE)
        self._release_lease = client.register_script(_RELEASE_LEASE)
        self._reserve_slot = client.register_script(_RESERVE_SLOT)
        self._apply_change = client.register_script(_APPLY_CHANGE)
        self._list_open_tasks = client.register_script(_LIST_OPEN_TASKS)
        self._claim_due = client.register_script(_CLAIM_DUE)
        self._put_due_many = client.register_script(_PUT_DUE_MANY)
        self._put_due_once = client.register_script(_PUT_DUE_ONCE)
        self._put_due_once_many = client.register_script(_PUT_DUE_ONCE_MANY)
        self._complete_due = client.register_script(_COMPLETE_DUE)
        self._extend_claims = client.register_script(_EXTEND_CLAIMS)
        self._get_doc = client.register_script(_GET_DOC)
        self._set_doc = client.register_script(_SET_DOC)
        self._list_docs = client.register_script(_LIST_DOCS)

    @classmethod
    async def open(cls, url: str, *, key_prefix: str) -> RedisStore:
        # A burst of calls waits for a free connection rather than failing "too many connections".
        pool = BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=_MAX_CONNECTIONS, timeout=_POOL_WAIT_S
        )
        client = Redis.from_pool(pool)  # the client owns the pool and closes it
        try:
            await client.ping()  # fail at start, not at the first job
        except BaseException:
            await client.aclose()
            raise
        return cls(client, key_prefix)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._redis.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    # --- OAuth tokens ------------------------------------------------------------------------
    async def load_tokens(self, name: str) -> OAuthTokens | None:
        body = await self._redis.get(f"{self._p}tokens:{name}")
        return None if body is None else OAuthTokens.model_validate_json(body)

    async def save_tokens(self, name: str, tokens: OAuthTokens) -> None:
        await self._redis.set(f"{self._p}tokens:{name}", tokens.model_dump_json())

    # --- leases ------------------------------------------------------------------------------
    async def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        won = await self._acquire_lease(keys=[f"{self._p}lease:{name}"], args=[owner, _ms(ttl_s)])
        return bool(won)

    async def release_lease(self, name: str, owner: str) -> None:
        await self._release_lease(keys=[f"{self._p}lease:{name}"], args=[owner])

    # --- pacing ------------------------------------------------------------------------------
    async def reserve_slot(self, name: str, interval_s: float) -> float:
        wait_us = await self._reserve_slot(
            keys=[f"{self._p}slot:{name}"], args=[max(0, round(interval_s * 1_000_000))]
        )
        return int(wait_us) / 1_000_000

    # --- cursors and dedupe ------------------------------------------------------------------
    async def get_cursor(self, name: str) -> str | None:
        value = await self._redis.get(f"{self._p}cursor:{name}")
        return None if value is None else str(value)

    async def set_cursor(self, name: str, value: str) -> None:
        await self._redis.set(f"{self._p}cursor:{name}", value)

    async def mark_seen(self, key: str, ttl_s: float) -> bool:
        first = await self._redis.set(f"{self._p}seen:{key}", "1", nx=True, px=_ms(ttl_s))
        return bool(first)

    # --- task and deal cache -----------------------------------------------------------------
    async def get_task(self, task_id: int) -> Cached[Task] | None:
        value, rev = await self._redis.hmget(f"{self._p}task:{task_id}", ["value", "rev"])
        if value is None or rev is None:
            return None
        return Cached[Task](value=Task.model_validate_json(value), rev=int(rev))

    async def get_deal(self, deal_id: int) -> Cached[Deal] | None:
        value, rev = await self._redis.hmget(f"{self._p}deal:{deal_id}", ["value", "rev"])
        if value is None or rev is None:
            return None
        return Cached[Deal](value=Deal.model_validate_json(value), rev=int(rev))

    async def get_tasks(self, task_ids: Sequence[int]) -> dict[int, Cached[Task]]:
        return {
            i: Cached[Task](value=Task.model_validate_json(value), rev=int(rev))
            for i, (value, rev) in (await self._cached("task", task_ids)).items()
        }

    async def get_deals(self, deal_ids: Sequence[int]) -> dict[int, Cached[Deal]]:
        return {
            i: Cached[Deal](value=Deal.model_validate_json(value), rev=int(rev))
            for i, (value, rev) in (await self._cached("deal", deal_ids)).items()
        }

    async def _cached(self, kind: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(value, rev) of the cached ones: one pipelined round trip for them all."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for i in wanted:
                pipe.hmget(f"{self._p}{kind}:{i}", ["value", "rev"])
            found: list[list[str | None]] = await pipe.execute()
        return {
            i: (value, rev)
            for i, (value, rev) in zip(wanted, found, strict=True)
            if value is not None and rev is not None
        }

    async def list_open_tasks(self, responsible_user_id: int | None = None) -> list[Task]:
        index = (
            f"{self._p}open:all"
            if responsible_user_id is None
            else f"{self._p}open:user:{responsible_user_id}"
        )
        bodies = await self._list_open_tasks(keys=[index], args=[f"{self._p}task:"])
        tasks = [Task.model_validate_json(body) for body in bodies]
        # Scores order by complete_till; ties are put in id order here, as SQLite does.
        tasks.sort(key=lambda t: (t.complete_till, t.id))
        return tasks

    async def apply_change(self, change: EntityChange) -> tuple[CrmEvent, ...] | None:
        _check_change(change)
        new = change.new
        open_for: str | int = ""
        complete_till = 0
        if isinstance(new, Task) and not new.is_completed:
            open_for, complete_till = new.responsible_user_id, new.complete_till
        args: list[str | int] = [
            "" if change.expected_rev is None else change.expected_rev,
            "" if new is None else new.model_dump_json(),
            change.id,
            open_for,
            complete_till,
            f"{self._p}open:user:",
            repr(float(change.hold_until)),
        ]
        for event in change.events:
            args += [event.key, event.occurred_at, event.model_dump_json()]
        result = await self._apply_change(
            keys=[
                f"{self._p}{change.kind}:{change.id}",
                f"{self._p}rev",
                f"{self._p}events",
                f"{self._p}events:keys",
                f"{self._p}events:seq",
                f"{self._p}open:all",
                *(
                    key
                    for queue in change.fanout
                    for key in (f"{self._p}due:{queue}", f"{self._p}dueitems:{queue}")
                ),
            ],
            args=args,
        )
        # The script answers {0} on conflict, else {1, indexes of the newly journaled events}.
        if not result or int(result[0]) == 0:
            return None
        return tuple(change.events[int(i)] for i in result[1:])

    async def recent_events(self, since: int = 0, limit: int = 1000) -> list[CrmEvent]:
        if limit <= 0:
            return []
        # decode_responses=True: members are str, whatever the client's annotations allow.
        members = cast(
            "list[str]",
            await self._redis.zrangebyscore(f"{self._p}events", since, "+inf", start=0, num=limit),
        )
        return [CrmEvent.model_validate_json(m[_SEQ_WIDTH + 1 :]) for m in members]

    # --- due-time index -----------------------------------------------------------------------
    async def put_due(self, queue: str, item_id: str, due_at: float, payload: str = "") -> None:
        await self.put_due_many(queue, [DueEntry(item_id=item_id, due_at=due_at, payload=payload)])

    async def put_due_many(self, queue: str, entries: Sequence[DueEntry]) -> None:
        if not entries:
            return
        # One script call for the whole batch (an entry repeated: the last wins). One random
        # token, made unique per entry by its index: a uuid each cost more than Redis did.
        base = _new_token()
        flat: list[str] = []
        for i, e in enumerate(entries):
            due_at = repr(float(e.due_at))
            flat += (e.item_id, due_at, f"{base}{i}\n{due_at}\n{e.payload}")
        await self._put_due_many(
            keys=[f"{self._p}due:{queue}", f"{self._p}dueitems:{queue}"],
            args=[json.dumps(flat, ensure_ascii=False)],
        )

    async def put_due_once(
        self, queue: str, entries: Sequence[DueEntry], key: str, ttl_s: float
    ) -> bool:
        args: list[str | int | float] = [_ms(ttl_s)]
        for e in entries:
            args += [e.item_id, e.due_at, f"{_new_token()}\n{float(e.due_at)!r}\n{e.payload}"]
        done = await self._put_due_once(
            keys=[f"{self._p}seen:{key}", f"{self._p}due:{queue}", f"{self._p}dueitems:{queue}"],
            args=args,
        )
        return bool(done)

    async def put_due_once_many(self, puts: Sequence[OncePut]) -> list[bool]:
        if not puts:
            return []
        keys: list[str] = []
        args: list[tuple[int, list[str]]] = []
        base = _new_token()  # made unique per entry by its place, as in put_due_many
        n = 0
        for put in puts:
            keys += [f"{self._p}seen:{put.key}", f"{self._p}due:{put.queue}",
                     f"{self._p}dueitems:{put.queue}"]  # fmt: skip
            flat: list[str] = []
            for e in put.entries:
                due_at = repr(float(e.due_at))
                flat += (e.item_id, due_at, f"{base}{n}\n{due_at}\n{e.payload}")
                n += 1
            args.append((_ms(put.ttl_s), flat))
        done: list[int] = await self._put_due_once_many(
            keys=keys, args=[json.dumps(args, ensure_ascii=False)]
        )
        return [bool(x) for x in done]

    async def claim_due(self, queue: str, now: float, limit: int, lease_s: float) -> list[DueItem]:
        if limit <= 0:
            return []
        flat: list[str] = await self._claim_due(
            keys=[f"{self._p}due:{queue}", f"{self._p}dueitems:{queue}"],
            args=[now, limit, now + lease_s, *(_new_token() for _ in range(limit))],
        )
        items = []
        for i in range(0, len(flat), 3):
            item_id, token, rest = flat[i : i + 3]
            due_at, payload = rest.split("\n", 1)
            items.append(
                DueItem(
                    queue=queue,
                    item_id=item_id,
                    due_at=float(due_at),
                    payload=payload,
                    token=token,
                )
            )
        return items

    async def complete_due(self, item: DueItem) -> bool:
        done = await self._complete_due(
            keys=[f"{self._p}due:{item.queue}", f"{self._p}dueitems:{item.queue}"],
            args=[item.item_id, item.token],
        )
        return bool(done)

    async def extend_claims(self, items: Sequence[DueItem], until: float) -> frozenset[str]:
        queue = claims_queue(items)
        if queue is None:
            return frozenset()
        args: list[str | float] = [until]
        for item in items:
            args += [item.item_id, item.token]
        held: list[str] = await self._extend_claims(
            keys=[f"{self._p}due:{queue}", f"{self._p}dueitems:{queue}"], args=args
        )
        return frozenset(held)

    async def cancel_due(self, queue: str, item_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.zrem(f"{self._p}due:{queue}", item_id)
            tx.hdel(f"{self._p}dueitems:{queue}", item_id)
            await tx.execute()

    async def count_due(self, queue: str) -> int:
        return int(await self._redis.zcard(f"{self._p}due:{queue}"))

    async def earliest_due(self, queue: str) -> float | None:
        first = await self._redis.zrange(f"{self._p}due:{queue}", 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # --- documents ---------------------------------------------------------------------------
    def _doc_keys(self, ns: str) -> list[str]:
        return [f"{self._p}docs:{ns}", f"{self._p}docexp:{ns}"]

    async def get_doc(self, ns: str, key: str) -> str | None:
        value = await self._get_doc(keys=self._doc_keys(ns), args=[key])
        return None if value is None else str(value)

    async def put_doc(self, ns: str, key: str, value: str, *, ttl_s: float | None = None) -> None:
        await self._write_doc(ns, key, None, value, ttl_s=ttl_s, compare=False)

    async def swap_doc(
        self,
        ns: str,
        key: str,
        expected: str | None,
        value: str | None,
        *,
        ttl_s: float | None = None,
    ) -> bool:
        return await self._write_doc(ns, key, expected, value, ttl_s=ttl_s, compare=True)

    async def delete_doc(self, ns: str, key: str) -> None:
        await self._write_doc(ns, key, None, None, ttl_s=None, compare=False)

    async def list_docs(self, ns: str) -> dict[str, str]:
        flat: list[str] = await self._list_docs(keys=self._doc_keys(ns), args=[])
        return dict(zip(flat[::2], flat[1::2], strict=True))

    async def _write_doc(
        self,
        ns: str,
        key: str,
        expected: str | None,
        value: str | None,
        *,
        ttl_s: float | None,
        compare: bool,
    ) -> bool:
        done = await self._set_doc(
            keys=self._doc_keys(ns),
            args=[
                key,
                "1" if compare else "0",
                "0" if expected is None else "1",
                "" if expected is None else expected,
                "0" if value is None else "1",
                "" if value is None else value,
                "" if ttl_s is None else _ms(ttl_s),
            ],
        )
        return bool(done)

    # --- append-only lists -------------------------------------------------------------------
    def _list_key(self, ns: str, key: str) -> str:
        return f"{self._p}list:{len(ns)}:{ns}:{key}"

    async def append(self, ns: str, key: str, value: str, *, max_len: int = 1000) -> None:
        if max_len < 1:
            raise ValueError(f"max_len must be at least 1, not {max_len}")
        async with self._redis.pipeline(transaction=True) as tx:
            tx.rpush(self._list_key(ns, key), value)
            tx.ltrim(self._list_key(ns, key), -max_len, -1)
            await tx.execute()

    async def read_list(self, ns: str, key: str) -> list[str]:
        values = await self._redis.lrange(self._list_key(ns, key), 0, -1)
        return [str(v) for v in values]

    # --- a log by time -----------------------------------------------------------------------
    async def add_log(self, ns: str, at: float, value: str) -> None:
        await self._redis.zadd(f"{self._p}log:{ns}", {f"{uuid.uuid4().hex}:{value}": at})

    async def read_log(self, ns: str, since: float, until: float, *, limit: int) -> list[str]:
        members = await self._redis.zrangebyscore(
            f"{self._p}log:{ns}", since, f"({until}", start=0, num=limit
        )
        return [str(m).split(":", 1)[1] for m in members]

    async def count_log(self, ns: str, since: float, until: float) -> int:
        return int(await self._redis.zcount(f"{self._p}log:{ns}", since, f"({until}"))

    async def trim_log(self, ns: str, before: float) -> int:
        return int(await self._redis.zremrangebyscore(f"{self._p}log:{ns}", "-inf", f"({before}"))


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
