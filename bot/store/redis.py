"""The shared ``Store``: Redis, for several replicas.

Every read-modify-write is one Lua script, so it runs atomically on the server whichever replica
sends it. Expiring keys (leases, seen keys, pacing slots) use Redis TTLs, and pacing reads the
server clock, so all replicas share one timeline whatever their own clocks say.

Key layout, under ``key_prefix`` (``P``)::

    P tokens:<name>          string  OAuthTokens JSON
    P cursor:<name>          string  the cursor
    P lease:<name>           string  the owner, PX = ttl
    P slot:<name>            string  next free moment, µs on the server clock; expires once past
    P window:<name>          list    the last moments reserved in a window (the amoCRM pace), µs
    P seen:<key>             string  "1", PX = ttl
    P task:<id>, deal:<id>   hash    rev, value (JSON); tasks that are open also open_uid
    P rev                    counter the store-wide revision sequence
    P open:all               zset    open task ids by complete_till
    P open:user:<uid>        zset    the same, per responsible user
    P events                 zset    "<seq, 16 digits>:<CrmEvent JSON>" by occurred_at
    P events:keys            set     journaled event keys (dedupe)
    P events:seq             counter journal order, for events that share an occurred_at
    P duelong                set     the due queues kept in buckets (``long_queues``)
    P duemeta:<queue>        hash    the due queue's buckets: level, split (linear hashing)
                                     and count (its entries)
    P dueb:<queue>:z<b>      zset    bucket b: item ids by the moment they can next be claimed
    P dueb:<queue>:h<b>      hash    bucket b: item id -> "<token>\\n<due_at>\\n<payload>";
                                     token '' until claimed, due_at '' while it is the score
    P dueidx:<queue>         zset    bucket numbers by their earliest moment
    P due:<queue>,           zset,   a queue not named long (the inbox, the outbox, the
      dueitems:<queue>       hash    listeners'), entries as in a bucket; versions before the
                                     buckets kept every queue so (a token on every entry):
                                     those were moved into buckets once on open (then
                                     ``P duelayout``); both forms are read and claimed
    P docs:<ns>              hash    document key -> value
    P docexp:<ns>            zset    keys of the documents of ``docs:<ns>`` that expire, by the
                                     moment they do (ms on the server clock)
    P list:<n>:<ns>:<key>    list    appended values, oldest first; ``n`` is ``len(ns)``, so a
                                     ``:`` in ``ns`` or ``key`` cannot make two lists one
    P log:<ns>               zset    "<32 hex>:<value>" by the moment logged (the random head
                                     keeps two equal values apart)

In a long queue, an item's bucket is the low bits of a hash of its id: 2^level buckets, the
first ``split`` of them already split in two by one more bit. A put that takes a queue past 32
entries a bucket splits the next one (moving about half its entries), so buckets stay well
under Redis's 128 entries for its compact encoding (listpack), about a quarter of the bytes of
a skiplist and a hashtable entry; a claim takes the earliest of the first ``limit`` buckets in
``dueidx``.

A document with a TTL stays in its hash until a write to its namespace (a few at a time) or
``list_docs`` (all of them) sweeps it; until then every read checks ``docexp`` on the server
clock, so an expired document is absent everywhere the moment it expires.

Scripts build some keys from ``P`` (the per-entity, per-user and due bucket ones); on Redis
Cluster give a prefix with a hash tag, e.g. ``{amobridge}:``, so that every key lives in one slot.

One class over 400 lines on purpose: it implements the whole ``Store`` contract, one method per
operation of ``protocol.py`` in the same order as ``sqlite.py``; its Lua scripts are above it.
"""

from __future__ import annotations

import json
import math
import secrets
import uuid
from collections.abc import Collection, Sequence
from typing import cast

from redis.asyncio import BlockingConnectionPool, Redis

from bot.core import CrmEvent, Deal, OAuthTokens, Task
from bot.store.protocol import (
    Cached,
    CachedDeal,
    CachedTask,
    DueEntry,
    DueItem,
    EntityChange,
    OncePut,
    claims_queue,
)

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

# KEYS[1]: the window's list of reserved moments (µs, oldest first). ARGV: count, window (µs),
# room (0: reserve the earliest moment; else take a moment now only with fewer than room in the
# window and none after now, and otherwise reserve nothing and answer the wait).
_RESERVE_IN_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local count, window, room = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local recent = redis.call('LRANGE', KEYS[1], 0, -1)
local slot = now
if #recent > 0 and tonumber(recent[#recent]) > slot then
  slot = tonumber(recent[#recent])
end
local limit = count
if room > 0 then limit = room end
if #recent >= limit then
  local edge = tonumber(recent[#recent - limit + 1]) + window
  if edge > slot then slot = edge end
end
if room > 0 and slot > now then return slot - now end
redis.call('RPUSH', KEYS[1], string.format('%d', slot))
redis.call('LTRIM', KEYS[1], -count, -1)
redis.call('PEXPIRE', KEYS[1], math.floor((slot + window - now) / 1000) + 1000)
return slot - now
"""

# The due index of a queue, for every due script (see the module docstring for the layout). An
# entry is "<token>\n<due_at>\n<payload>": in a bucket the token is '' until a claim and due_at is
# '' while it is the entry's score. ``due_queue(P, q)`` reads the queue's state; ``save(Q)``
# writes it back with the index scores of the buckets written to. Buckets split one at a time
# (linear hashing) so they average at most LOAD entries: small enough for Redis's compact
# encodings (128 entries by default), which take a fraction of a skiplist's or hashtable's bytes.
_DUE_PRELUDE = """
local LOAD = 32
local function due_queue(p, q)
  local Q = {meta = p .. 'duemeta:' .. q, index = p .. 'dueidx:' .. q, side = p .. 'due:' .. q,
             sideitems = p .. 'dueitems:' .. q, stem = p .. 'dueb:' .. q .. ':', dirty = {},
             names = {}}
  -- A long queue (named at open: one that can hold a million, the reminders) is kept in
  -- buckets; any other on the side, one zset and one hash, written and claimed in fewer calls.
  Q.long = redis.call('SISMEMBER', p .. 'duelong', q) == 1
  local state = redis.call('HMGET', Q.meta, 'level', 'split', 'count')
  Q.level = tonumber(state[1]) or 0
  Q.split = tonumber(state[2]) or 0
  Q.count = tonumber(state[3]) or 0
  Q.read = {Q.level, Q.split, Q.count}
  return Q
end
local function name(Q, b)  -- bucket b's number as text, made once per script
  local n = Q.names[b]
  if not n then
    n = string.format('%d', b)
    Q.names[b] = n
  end
  return n
end
local function zkey(Q, b) return Q.stem .. 'z' .. name(Q, b) end
local function hkey(Q, b) return Q.stem .. 'h' .. name(Q, b) end
local function hash_of(id) return tonumber(string.sub(redis.sha1hex(id), 1, 8), 16) end
local function bucket_of(Q, id)
  local h = hash_of(id)
  local b = h % (2 ^ Q.level)
  if b < Q.split then b = h % (2 ^ (Q.level + 1)) end
  return b
end
local function bulk(command, key, args)  -- one call per 1000 arguments (unpack has a limit)
  for i = 1, #args, 1000 do
    redis.call(command, key, unpack(args, i, math.min(#args, i + 999)))
  end
end
local function split_one(Q)
  local from, half = Q.split, 2 ^ Q.level
  local to = from + half
  local entries = redis.call('HGETALL', hkey(Q, from))
  local scored = redis.call('ZRANGE', zkey(Q, from), 0, -1, 'WITHSCORES')
  local score = {}
  for i = 1, #scored, 2 do
    score[scored[i]] = scored[i + 1]
  end
  local ids, fields, members = {}, {}, {}
  for i = 1, #entries, 2 do
    local id = entries[i]
    if hash_of(id) % (2 * half) == to then
      ids[#ids + 1] = id
      fields[#fields + 1] = id
      fields[#fields + 1] = entries[i + 1]
      members[#members + 1] = score[id]
      members[#members + 1] = id
    end
  end
  bulk('HDEL', hkey(Q, from), ids)
  bulk('ZREM', zkey(Q, from), ids)
  bulk('HSET', hkey(Q, to), fields)
  bulk('ZADD', zkey(Q, to), members)
  Q.dirty[from] = true
  Q.dirty[to] = true
  Q.split = from + 1
  if Q.split == half then
    Q.level = Q.level + 1
    Q.split = 0
  end
end
local function drop_side(Q, id)
  if Q.aside == nil then  -- a long queue has no side entries: looked at once, not per item
    Q.aside = redis.call('EXISTS', Q.side, Q.sideitems) > 0
  end
  if Q.aside then
    redis.call('ZREM', Q.side, id)
    redis.call('HDEL', Q.sideitems, id)
  end
end
local function put_bucket(Q, id, score, entry)
  drop_side(Q, id)
  local b = bucket_of(Q, id)
  if redis.call('HSET', hkey(Q, b), id, entry) == 1 then
    Q.count = Q.count + 1
    -- A new entry can only bring its bucket's earliest moment forward.
    redis.call('ZADD', Q.index, 'LT', score, name(Q, b))
  else
    Q.dirty[b] = true
  end
  redis.call('ZADD', zkey(Q, b), score, id)
  while Q.count > LOAD * (2 ^ Q.level + Q.split) do
    split_one(Q)
  end
end
local function drop(Q, b, id)
  if redis.call('HDEL', hkey(Q, b), id) == 1 then
    redis.call('ZREM', zkey(Q, b), id)
    Q.count = Q.count - 1
    Q.dirty[b] = true
  end
end
-- The webhook inbox, the outbox and the listeners' queues stay on the side: in buckets, their
-- writes took four times the server's time, and intake fell from 0.72 to 0.6 of a bare
-- handler's rate (bench/ingest.py); the buckets are for a long queue's memory.
local function put(Q, id, score, entry)
  if Q.long then
    put_bucket(Q, id, score, entry)
    return
  end
  if Q.count > 0 then  -- put while the queue was long (a replica that names it): out of there
    drop(Q, bucket_of(Q, id), id)
  end
  redis.call('HSET', Q.sideitems, id, entry)
  redis.call('ZADD', Q.side, score, id)
  Q.aside = true
end
local function holds(entry, token)
  return entry and token ~= '' and string.sub(entry, 1, #token + 1) == token .. '\\n'
end
local function save(Q)
  for b in pairs(Q.dirty) do
    local first = redis.call('ZRANGE', zkey(Q, b), 0, 0, 'WITHSCORES')
    if first[1] then
      redis.call('ZADD', Q.index, first[2], name(Q, b))
    else
      redis.call('ZREM', Q.index, name(Q, b))
    end
  end
  Q.dirty = {}
  if Q.count == 0 then  -- every bucket is empty: the queue starts over from one
    if Q.read[3] > 0 then redis.call('DEL', Q.meta) end
  elseif Q.level ~= Q.read[1] or Q.split ~= Q.read[2] or Q.count ~= Q.read[3] then
    redis.call('HSET', Q.meta, 'level', Q.level, 'split', Q.split, 'count', Q.count)
  end
  Q.read = {Q.level, Q.split, Q.count}
end
"""

# KEYS: entity hash, rev counter, events zset, event keys set, events seq counter, open:all, then
# the state of each fan-out queue. ARGV: expected rev ('' = absent), new JSON ('' = delete), id,
# open owner ('' = not an open task), complete_till, open:user: prefix, the fan-out hold
# (visible from), P, a JSON array of the fan-out queues, then one (key, occurred_at, JSON)
# triple per event. A fan-out entry's token is 'j' and the journal sequence: unique, since an
# event is journaled once.
_APPLY_CHANGE = (
    _DUE_PRELUDE
    + """
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
local queues = {}
for q, name in ipairs(cjson.decode(ARGV[9])) do
  queues[q] = due_queue(ARGV[8], name)
end
local out = {1}
for i = 10, #ARGV, 3 do
  if redis.call('SADD', KEYS[4], ARGV[i]) == 1 then
    local seq = redis.call('INCR', KEYS[5])
    redis.call('ZADD', KEYS[3], ARGV[i + 1], string.format('%016d', seq) .. ':' .. ARGV[i + 2])
    for _, Q in ipairs(queues) do
      put(Q, ARGV[i], ARGV[7], 'j' .. seq .. '\\n' .. ARGV[i + 1] .. '\\n' .. ARGV[i + 2])
    end
    out[#out + 1] = (i - 10) / 3
  end
end
for _, Q in ipairs(queues) do
  save(Q)
end
return out
"""
)

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

# ARGV[1]: a cached entity's key prefix; ARGV[2]: a JSON array of ids. Returns a JSON array of
# [id, value, rev] for those cached. One command and one reply for a burst's tasks: pipelined
# HMGETs cost redis-py more Python per command than the rest of firing (bench/scheduler.py).
_CACHED_MANY = """
local out = {}
for _, id in ipairs(cjson.decode(ARGV[2])) do
  local found = redis.call('HMGET', ARGV[1] .. id, 'value', 'rev')
  if found[1] and found[2] then
    out[#out + 1] = {id, found[1], found[2]}
  end
end
if #out == 0 then
  return '[]'
end
return cjson.encode(out)
"""

# KEYS[1]: the queue's state (P duemeta:<queue>; the other keys are made from P). ARGV: P, queue,
# a JSON array of (item id, due_at, payload) triples, flat. One argument, not three per item:
# redis-py encodes each argument in Python, and for the webhook inbox's batches that took longer
# than everything else in the write.
_PUT_DUE_MANY = (
    _DUE_PRELUDE
    + """
local Q = due_queue(ARGV[1], ARGV[2])
local flat = cjson.decode(ARGV[3])
for i = 1, #flat, 3 do
  put(Q, flat[i], flat[i + 1], '\\n\\n' .. flat[i + 2])
end
save(Q)
return #flat / 3
"""
)

# KEYS: per put its seen key and its queue's state. ARGV[1]: P; ARGV[2]: a JSON array, per put
# its queue, ttl (ms) and a flat array of (item id, due_at, payload) triples. Returns a 0/1 per
# put. (put_due_once is one such put.)
_PUT_DUE_ONCE_MANY = (
    _DUE_PRELUDE
    + """
local puts = cjson.decode(ARGV[2])
local queues = {}
local done = {}
for p = 1, #puts do
  if redis.call('SET', KEYS[2 * p - 1], '1', 'NX', 'PX', puts[p][2]) then
    local name = puts[p][1]
    queues[name] = queues[name] or due_queue(ARGV[1], name)
    local flat = puts[p][3]
    for i = 1, #flat, 3 do
      put(queues[name], flat[i], flat[i + 1], '\\n\\n' .. flat[i + 2])
    end
    done[p] = 1
  else
    done[p] = 0
  end
end
for _, Q in pairs(queues) do
  save(Q)
end
return done
"""
)

# KEYS[1]: the queue's state. ARGV: P, queue, now, limit, hidden until, then one fresh token per
# slot. The earliest due of the first ``limit`` buckets by their earliest entry (no other bucket
# can hold one earlier) and of the side entries, merged; returns (id, token, due_at, payload)
# per claimed item.
_CLAIM_DUE = (
    _DUE_PRELUDE
    + """
local Q = due_queue(ARGV[1], ARGV[2])
local now, limit, hidden = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local found = {}
local function gather(key, b)
  local flat = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #flat, 2 do
    found[#found + 1] = {flat[i], tonumber(flat[i + 1]), flat[i + 1], b}
  end
end
for _, b in ipairs(redis.call('ZRANGEBYSCORE', Q.index, '-inf', now, 'LIMIT', 0, limit)) do
  gather(zkey(Q, tonumber(b)), tonumber(b))
end
gather(Q.side, false)
table.sort(found, function(x, y)
  if x[2] ~= y[2] then return x[2] < y[2] end
  return x[1] < y[1]
end)
local out = {}
for i = 1, math.min(limit, #found) do
  local id, score, b = found[i][1], found[i][3], found[i][4]
  local items, index = Q.sideitems, Q.side
  if b then
    items, index = hkey(Q, b), zkey(Q, b)
    Q.dirty[b] = true
  end
  local entry = redis.call('HGET', items, id)
  if entry then
    local _, due, payload = string.match(entry, '^([^\\n]*)\\n([^\\n]*)\\n(.*)$')
    if due == '' then due = score end
    local token = ARGV[5 + i]
    redis.call('HSET', items, id, token .. '\\n' .. due .. '\\n' .. payload)
    redis.call('ZADD', index, hidden, id)
    out[#out + 1] = id
    out[#out + 1] = token
    out[#out + 1] = due
    out[#out + 1] = payload
  else
    redis.call('ZREM', index, id)
  end
end
save(Q)
return out
"""
)

# KEYS[1]: the queue's state. ARGV: P, queue, item id, token.
_COMPLETE_DUE = (
    _DUE_PRELUDE
    + """
local Q = due_queue(ARGV[1], ARGV[2])
local id, token = ARGV[3], ARGV[4]
local b = bucket_of(Q, id)
if holds(redis.call('HGET', hkey(Q, b), id), token) then
  drop(Q, b, id)
  save(Q)
  return 1
end
if holds(redis.call('HGET', Q.sideitems, id), token) then
  drop_side(Q, id)
  return 1
end
return 0
"""
)

# KEYS[1]: the queue's state. ARGV: P, queue, hidden until, then (id, token) pairs. Returns the
# ids whose entry still carries the token, now hidden until then.
_EXTEND_CLAIMS = (
    _DUE_PRELUDE
    + """
local Q = due_queue(ARGV[1], ARGV[2])
local held = {}
for i = 4, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local b = bucket_of(Q, id)
  if holds(redis.call('HGET', hkey(Q, b), id), token) then
    redis.call('ZADD', zkey(Q, b), ARGV[3], id)
    Q.dirty[b] = true
    held[#held + 1] = id
  elseif holds(redis.call('HGET', Q.sideitems, id), token) then
    redis.call('ZADD', Q.side, ARGV[3], id)
    held[#held + 1] = id
  end
end
save(Q)
return held
"""
)

# KEYS[1]: the queue's state. ARGV: P, queue, how many. Moves that many entries of the older
# layout (the side) into the buckets, and returns how many are left there. An entry never claimed
# (due at its score: a claim or a hold always hides an entry past its due_at) drops its token.
_ADOPT_DUE = (
    _DUE_PRELUDE
    + """
local Q = due_queue(ARGV[1], ARGV[2])
local flat = redis.call('ZRANGE', Q.side, 0, tonumber(ARGV[3]) - 1, 'WITHSCORES')
for i = 1, #flat, 2 do
  local id, score = flat[i], flat[i + 1]
  local entry = redis.call('HGET', Q.sideitems, id)
  if entry then
    local _, due, payload = string.match(entry, '^([^\\n]*)\\n([^\\n]*)\\n(.*)$')
    if due and tonumber(due) == tonumber(score) then
      entry = '\\n\\n' .. payload
    end
    put_bucket(Q, id, score, entry)
  else
    redis.call('ZREM', Q.side, id)
  end
end
save(Q)
return redis.call('ZCARD', Q.side)
"""
)

# KEYS[1]: the queue's state. ARGV: P, queue, item id.
_CANCEL_DUE = (
    _DUE_PRELUDE
    + """
local Q = due_queue(ARGV[1], ARGV[2])
drop(Q, bucket_of(Q, ARGV[3]), ARGV[3])
drop_side(Q, ARGV[3])
save(Q)
return 0
"""
)

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
_DUE_LAYOUT = "buckets"  # P duelayout once the older due entries were moved into buckets
_ADOPT_BATCH = 1000  # older due entries moved per script call: a few ms of the server each


def _ms(seconds: float) -> int:
    """Redis TTLs are whole milliseconds and must be positive."""
    return max(1, math.ceil(seconds * 1000))


def _new_token() -> str:
    """A claim's token: 64 random bits tell claims of one item apart, and 16 characters keep a
    claimed entry within the compact encoding's 64 bytes."""
    return secrets.token_hex(8)


class RedisStore:
    """``Store`` on Redis. Open with ``await RedisStore.open(url, key_prefix=...)``."""

    def __init__(self, client: Redis, key_prefix: str) -> None:
        self._redis = client
        self._p = key_prefix
        self._closed = False
        self._acquire_lease = client.register_script(_ACQUIRE_LEASE)
        self._release_lease = client.register_script(_RELEASE_LEASE)
        self._reserve_slot = client.register_script(_RESERVE_SLOT)
        self._reserve_in_window = client.register_script(_RESERVE_IN_WINDOW)
        self._apply_change = client.register_script(_APPLY_CHANGE)
        self._list_open_tasks = client.register_script(_LIST_OPEN_TASKS)
        self._cached_many = client.register_script(_CACHED_MANY)
        self._claim_due = client.register_script(_CLAIM_DUE)
        self._put_due_many = client.register_script(_PUT_DUE_MANY)
        self._put_due_once_many = client.register_script(_PUT_DUE_ONCE_MANY)
        self._complete_due = client.register_script(_COMPLETE_DUE)
        self._extend_claims = client.register_script(_EXTEND_CLAIMS)
        self._cancel_due = client.register_script(_CANCEL_DUE)
        self._adopt_due = client.register_script(_ADOPT_DUE)
        self._get_doc = client.register_script(_GET_DOC)
        self._set_doc = client.register_script(_SET_DOC)
        self._list_docs = client.register_script(_LIST_DOCS)

    @classmethod
    async def open(
        cls, url: str, *, key_prefix: str, long_queues: Collection[str] = ()
    ) -> RedisStore:
        """``long_queues``: the due queues kept in small buckets, for memory (the reminders: a
        million of them take 67 bytes each instead of 236); every other is kept as one zset
        and one hash, faster to write and claim. The names are kept in the server, for every
        replica."""
        # A burst of calls waits for a free connection rather than failing "too many connections".
        pool = BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=_MAX_CONNECTIONS, timeout=_POOL_WAIT_S
        )
        client = Redis.from_pool(pool)  # the client owns the pool and closes it
        try:
            await client.ping()  # fail at start, not at the first job
            store = cls(client, key_prefix)
            if long_queues:
                await client.sadd(f"{key_prefix}duelong", *long_queues)
            await store._adopt_older_due_entries()
        except BaseException:
            await client.aclose()
            raise
        return store

    async def _adopt_older_due_entries(self) -> None:
        """Move the due entries of a version before the buckets into them, once per prefix.

        A replica of that version still running writes them again; claims read them where they
        are, so they are only bigger there, never lost.
        """
        done = f"{self._p}duelayout"
        if await self._redis.get(done) == _DUE_LAYOUT:
            return
        stem = f"{self._p}dueitems:"
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in stem) + "*"
        async for key in self._redis.scan_iter(match=pattern, count=1000):
            queue = str(key).removeprefix(stem)
            while await self._adopt_due(
                keys=[self._due_state(queue)], args=[self._p, queue, _ADOPT_BATCH]
            ):
                pass
        await self._redis.set(done, _DUE_LAYOUT)

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

    async def reserve_in_window(self, name: str, count: int, window_s: float) -> float:
        return await self._in_window(name, count, window_s, 0)

    async def take_in_window(self, name: str, count: int, window_s: float, room: int) -> float:
        return await self._in_window(name, count, window_s, max(1, min(room, count)))

    async def _in_window(self, name: str, count: int, window_s: float, room: int) -> float:
        wait_us = await self._reserve_in_window(
            keys=[f"{self._p}window:{name}"],
            args=[count, max(0, round(window_s * 1_000_000)), room],
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
        return CachedTask(value=Task.model_validate_json(value), rev=int(rev))

    async def get_deal(self, deal_id: int) -> Cached[Deal] | None:
        value, rev = await self._redis.hmget(f"{self._p}deal:{deal_id}", ["value", "rev"])
        if value is None or rev is None:
            return None
        return CachedDeal(value=Deal.model_validate_json(value), rev=int(rev))

    async def get_tasks(self, task_ids: Sequence[int]) -> dict[int, Cached[Task]]:
        return {
            i: CachedTask(value=Task.model_validate_json(value), rev=int(rev))
            for i, (value, rev) in (await self._cached("task", task_ids)).items()
        }

    async def get_deals(self, deal_ids: Sequence[int]) -> dict[int, Cached[Deal]]:
        return {
            i: CachedDeal(value=Deal.model_validate_json(value), rev=int(rev))
            for i, (value, rev) in (await self._cached("deal", deal_ids)).items()
        }

    async def _cached(self, kind: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(value, rev) of the cached ones: one pipelined round trip for them all."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        found = await self._cached_many(
            args=[f"{self._p}{kind}:", json.dumps([str(i) for i in wanted])]
        )
        return {int(i): (value, str(rev)) for i, value, rev in json.loads(found)}

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
            self._p,
            json.dumps(change.fanout, ensure_ascii=False),
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
                *(self._due_state(queue) for queue in change.fanout),
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
        # One script call for the whole batch (an entry repeated: the last wins).
        flat: list[str] = []
        for e in entries:
            flat += (e.item_id, repr(float(e.due_at)), e.payload)
        await self._put_due_many(
            keys=[self._due_state(queue)],
            args=[self._p, queue, json.dumps(flat, ensure_ascii=False)],
        )

    async def put_due_once(
        self, queue: str, entries: Sequence[DueEntry], key: str, ttl_s: float
    ) -> bool:
        [done] = await self.put_due_once_many(
            [OncePut(queue=queue, entries=tuple(entries), key=key, ttl_s=ttl_s)]
        )
        return done

    async def put_due_once_many(self, puts: Sequence[OncePut]) -> list[bool]:
        if not puts:
            return []
        keys: list[str] = []
        args: list[tuple[str, int, list[str]]] = []
        for put in puts:
            keys += [f"{self._p}seen:{put.key}", self._due_state(put.queue)]
            flat: list[str] = []
            for e in put.entries:
                flat += (e.item_id, repr(float(e.due_at)), e.payload)
            args.append((put.queue, _ms(put.ttl_s), flat))
        done: list[int] = await self._put_due_once_many(
            keys=keys, args=[self._p, json.dumps(args, ensure_ascii=False)]
        )
        return [bool(x) for x in done]

    def _due_state(self, queue: str) -> str:
        """The key the due scripts name (their other keys are made from it in Lua)."""
        return f"{self._p}duemeta:{queue}"

    async def claim_due(self, queue: str, now: float, limit: int, lease_s: float) -> list[DueItem]:
        if limit <= 0:
            return []
        flat: list[str] = await self._claim_due(
            keys=[self._due_state(queue)],
            args=[
                self._p,
                queue,
                repr(float(now)),
                limit,
                repr(float(now + lease_s)),
                *(_new_token() for _ in range(limit)),
            ],
        )
        return [
            DueItem(
                queue=queue, item_id=item_id, due_at=float(due_at), payload=payload, token=token
            )
            for item_id, token, due_at, payload in zip(*[iter(flat)] * 4, strict=True)
        ]

    async def complete_due(self, item: DueItem) -> bool:
        done = await self._complete_due(
            keys=[self._due_state(item.queue)],
            args=[self._p, item.queue, item.item_id, item.token],
        )
        return bool(done)

    async def extend_claims(self, items: Sequence[DueItem], until: float) -> frozenset[str]:
        queue = claims_queue(items)
        if queue is None:
            return frozenset()
        args: list[str | float] = [self._p, queue, repr(float(until))]
        for item in items:
            args += [item.item_id, item.token]
        held: list[str] = await self._extend_claims(keys=[self._due_state(queue)], args=args)
        return frozenset(held)

    async def cancel_due(self, queue: str, item_id: str) -> None:
        await self._cancel_due(keys=[self._due_state(queue)], args=[self._p, queue, item_id])

    async def count_due(self, queue: str) -> int:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.hget(self._due_state(queue), "count")
            tx.zcard(f"{self._p}due:{queue}")
            in_buckets, aside = await tx.execute()
        return int(in_buckets or 0) + int(aside)

    async def earliest_due(self, queue: str) -> float | None:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.zrange(f"{self._p}dueidx:{queue}", 0, 0, withscores=True)
            tx.zrange(f"{self._p}due:{queue}", 0, 0, withscores=True)
            firsts: list[list[tuple[str, float]]] = await tx.execute()
        return min((float(f[0][1]) for f in firsts if f), default=None)

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
