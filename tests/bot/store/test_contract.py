"""The ``Store`` contract, run against both backends (SQLite on a file, Redis on a real server).

Races are run for real: two store instances (two SQLite connections on one file, two Redis
connections) fed concurrently with ``asyncio.gather``. Expiry uses tiny TTLs and a bounded poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiosqlite
import pytest
from redis.asyncio import Redis

from bot.core.domain import CrmEvent, CrmEventKind, Deal, OAuthTokens, Task
from bot.store import DueEntry, DueItem, EntityChange, GroupedOnce, OncePut, Store, open_store
from bot.store import sqlite as sqlite_store
from bot.store.redis import RedisStore
from bot.store.sqlite import SCHEMA_VERSION, SqliteStore

_T = TypeVar("_T")

Opener = Callable[[], Awaitable[Store]]


# The fixtures (``store``, ``open_backend``: both backends) are in conftest.py.


@pytest.fixture
async def two_stores(open_backend: Opener) -> tuple[Store, Store]:
    """Two instances on one backing, as two replicas (or two processes) would have."""
    return await open_backend(), await open_backend()


# --- helpers -----------------------------------------------------------------------------------


def a_task(
    task_id: int = 1, *, user: int = 10, till: int = 1_000, done: bool = False, text: str = ""
) -> Task:
    return Task(
        id=task_id, responsible_user_id=user, complete_till=till, is_completed=done, text=text
    )


def a_deal(deal_id: int = 1, *, price: int = 0) -> Deal:
    return Deal(id=deal_id, status_id=1, pipeline_id=1, responsible_user_id=10, price=price)


def an_event(key: str, *, at: int = 100, entity_id: int = 1) -> CrmEvent:
    return CrmEvent(
        key=key,
        kind=CrmEventKind.TASK_UPDATED,
        entity_kind="task",
        entity_id=entity_id,
        version=1,
        occurred_at=at,
    )


def put_task(task: Task, rev: int | None, *events: CrmEvent) -> EntityChange:
    return EntityChange(kind="task", id=task.id, expected_rev=rev, new=task, events=events)


async def rev_of_task(store: Store, task_id: int) -> int:
    cached = await store.get_task(task_id)
    assert cached is not None
    return cached.rev


async def event_keys(store: Store, since: int = 0, limit: int = 1000) -> list[str]:
    return [e.key for e in await store.recent_events(since, limit)]


async def race(
    stores: tuple[Store, Store], count: int, call: Callable[[Store, int], Awaitable[_T]]
) -> list[_T]:
    """``count`` concurrent calls ``call(store, n)``, alternating between the two instances."""
    a, b = stores
    return await asyncio.gather(*(call(a if n % 2 else b, n) for n in range(count)))


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 5.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# --- basics ------------------------------------------------------------------------------------


async def test_it_answers_ping(store: Store) -> None:
    await store.ping()


async def test_it_round_trips_tokens_per_name(store: Store) -> None:
    first = OAuthTokens(access_token="a1", refresh_token="r1", expires_at=1_700_000_000)
    second = OAuthTokens(access_token="a2", refresh_token="r2", expires_at=1_700_086_400)
    assert await store.load_tokens("amocrm") is None

    await store.save_tokens("amocrm", first)
    assert await store.load_tokens("amocrm") == first
    await store.save_tokens("amocrm", second)

    assert await store.load_tokens("amocrm") == second
    assert await store.load_tokens("other") is None


async def test_it_round_trips_cursors_per_name(store: Store) -> None:
    assert await store.get_cursor("events") is None
    await store.set_cursor("events", "1700000000")
    await store.set_cursor("events", "1700000100")
    await store.set_cursor("sync", "ä:1 2")

    assert await store.get_cursor("events") == "1700000100"
    assert await store.get_cursor("sync") == "ä:1 2"


async def test_it_keeps_data_across_close_and_reopen(open_backend: Opener) -> None:
    tokens = OAuthTokens(access_token="a", refresh_token="r", expires_at=1)
    first = await open_backend()
    await first.save_tokens("amocrm", tokens)
    await first.set_cursor("events", "42")
    assert await first.apply_change(put_task(a_task(7), None, an_event("e1"))) is not None
    await first.put_due("reminders", "r1", 10.0, "p")
    await first.put_doc("links", "k", "v")
    await first.append("log", "k", "a1")
    await first.close()
    await first.close()  # closing twice is harmless

    again = await open_backend()

    assert await again.load_tokens("amocrm") == tokens
    assert await again.get_cursor("events") == "42"
    cached = await again.get_task(7)
    assert cached is not None
    assert cached.value == a_task(7)
    assert await event_keys(again) == ["e1"]
    assert [i.payload for i in await again.claim_due("reminders", 10.0, 5, 60)] == ["p"]
    assert await again.get_doc("links", "k") == "v"
    assert await again.read_list("log", "k") == ["a1"]


# --- leases ------------------------------------------------------------------------------------


async def test_it_grants_a_free_lease_and_refuses_another_owner(store: Store) -> None:
    assert await store.acquire_lease("sync", "a", 30)
    assert not await store.acquire_lease("sync", "b", 30)
    assert await store.acquire_lease("other", "b", 30)


async def test_it_extends_a_lease_for_the_owner_that_holds_it(store: Store) -> None:
    assert await store.acquire_lease("sync", "a", 0.05)
    assert await store.acquire_lease("sync", "a", 30)

    # Well past the first TTL the lease is still a's: the second call extended it.
    until = time.monotonic() + 0.25
    while time.monotonic() < until:
        assert not await store.acquire_lease("sync", "b", 30)
        await asyncio.sleep(0.02)


async def test_it_lets_another_owner_in_once_the_lease_expires(store: Store) -> None:
    assert await store.acquire_lease("sync", "a", 0.05)
    assert not await store.acquire_lease("sync", "b", 30)

    await eventually(lambda: store.acquire_lease("sync", "b", 30))

    assert not await store.acquire_lease("sync", "a", 30)


async def test_it_releases_a_lease_only_for_its_owner(store: Store) -> None:
    assert await store.acquire_lease("sync", "a", 30)

    await store.release_lease("sync", "b")
    assert not await store.acquire_lease("sync", "b", 30)

    await store.release_lease("sync", "a")
    assert await store.acquire_lease("sync", "b", 30)
    await store.release_lease("never-taken", "a")


# --- pacing ------------------------------------------------------------------------------------


async def test_it_reserves_an_immediate_slot_on_a_fresh_timeline(store: Store) -> None:
    wait = await store.reserve_slot("amocrm", 10)
    assert 0 <= wait < 0.5


async def test_it_spaces_consecutive_slots_by_the_interval(store: Store) -> None:
    started = time.monotonic()
    waits = [await store.reserve_slot("amocrm", 10) for _ in range(5)]
    spread = time.monotonic() - started

    # wait_k = k * 10 - (time elapsed since the first call), and all calls took ``spread``.
    assert waits[0] <= spread
    for earlier, later in itertools.pairwise(waits):
        assert 10 - spread <= later - earlier <= 10


async def test_it_keeps_timelines_apart_by_name(store: Store) -> None:
    await store.reserve_slot("amocrm", 10)
    assert await store.reserve_slot("telegram", 10) < 0.5


async def test_it_does_not_bank_idle_time(store: Store) -> None:
    assert await store.reserve_slot("amocrm", 0.05) < 0.05
    await asyncio.sleep(0.1)  # the booked slot is now in the past

    assert await store.reserve_slot("amocrm", 10) < 0.05
    # An idle timeline gives one immediate slot, not a burst of them.
    assert await store.reserve_slot("amocrm", 10) > 9


async def test_a_window_gives_a_burst_while_quiet_then_a_turn_as_each_leaves_it(
    store: Store,
) -> None:
    started = time.monotonic()
    waits = [await store.reserve_in_window("amocrm", 3, 10) for _ in range(7)]
    spread = time.monotonic() - started

    assert spread < 1, "calls too slow for this check to mean anything"
    # Three at once; the next three ten seconds after them (as each of the first three leaves
    # the window); the seventh ten seconds after the fourth.
    assert all(w <= spread for w in waits[:3])
    assert all(10 - spread <= w <= 10 for w in waits[3:6])
    assert 20 - spread <= waits[6] <= 20
    # Each name its own window.
    assert await store.reserve_in_window("telegram", 3, 10) < 0.5


async def test_a_window_does_not_bank_idle_time(store: Store) -> None:
    for _ in range(2):
        assert await store.reserve_in_window("amocrm", 2, 0.2) < 0.05
    await asyncio.sleep(0.25)  # both moments have left the window

    # A quiet window gives a burst of two again, not two plus what went unused.
    waits = [await store.reserve_in_window("amocrm", 2, 0.2) for _ in range(3)]
    assert [w < 0.05 for w in waits] == [True, True, False]
    assert waits[2] > 0.15


async def test_a_background_take_leaves_room_and_never_books_ahead(store: Store) -> None:
    # Background takes fill 2 of a window of 3, at once; the third is refused, not booked.
    assert [await store.take_in_window("amocrm", 3, 10, 2) for _ in range(2)] == [0.0, 0.0]
    refused = await store.take_in_window("amocrm", 3, 10, 2)
    assert 9 <= refused <= 10
    # The moment left free is a person's, at once; after it the window is full for everyone.
    assert await store.reserve_in_window("amocrm", 3, 10) < 0.5
    assert await store.reserve_in_window("amocrm", 3, 10) > 9  # booked ahead, ten seconds out
    # With a moment booked ahead, a background take waits for it rather than going first.
    assert await store.take_in_window("amocrm", 3, 10, 2) > 9


async def test_a_background_take_goes_again_once_its_moments_leave_the_window(
    store: Store,
) -> None:
    assert await store.take_in_window("amocrm", 7, 0.2, 1) == 0.0
    wait = await store.take_in_window("amocrm", 7, 0.2, 1)
    assert 0 < wait <= 0.2
    await asyncio.sleep(wait + 0.01)
    assert await store.take_in_window("amocrm", 7, 0.2, 1) == 0.0


# --- seen keys ---------------------------------------------------------------------------------


async def test_it_marks_a_key_seen_only_the_first_time(store: Store) -> None:
    assert await store.mark_seen("amocrm:event:1", 60)
    assert not await store.mark_seen("amocrm:event:1", 60)
    assert not await store.mark_seen("amocrm:event:1", 60)
    assert await store.mark_seen("amocrm:event:2", 60)


async def test_it_forgets_a_seen_key_after_its_ttl_and_repeats_do_not_extend_it(
    store: Store,
) -> None:
    assert await store.mark_seen("k", 0.05)

    # Every False repeat here asks for 30 s; if one extended the mark, this would never pass.
    await eventually(lambda: store.mark_seen("k", 30))

    assert not await store.mark_seen("k", 30)


# --- task and deal cache -----------------------------------------------------------------------


async def test_it_has_no_entity_until_one_is_applied(store: Store) -> None:
    assert await store.get_task(1) is None
    assert await store.get_deal(1) is None
    assert await store.list_open_tasks() == []


async def test_it_caches_a_new_entity_when_the_caller_read_nothing(store: Store) -> None:
    assert await store.apply_change(put_task(a_task(1, text="call"), None)) is not None
    deal_change = EntityChange(kind="deal", id=5, expected_rev=None, new=a_deal(5, price=900))
    assert await store.apply_change(deal_change) is not None

    task = await store.get_task(1)
    deal = await store.get_deal(5)
    assert task is not None
    assert task.value == a_task(1, text="call")
    assert deal is not None
    assert deal.value == a_deal(5, price=900)


async def test_it_reads_many_entities_at_once_leaving_out_the_missing(store: Store) -> None:
    for n in (1, 2, 3):
        await store.apply_change(put_task(a_task(n, text=f"t{n}"), None))
    await store.apply_change(EntityChange(kind="deal", id=5, expected_rev=None, new=a_deal(5)))

    tasks = await store.get_tasks([3, 1, 9, 1])
    deals = await store.get_deals([5, 6])

    assert {i: c.value.text for i, c in tasks.items()} == {1: "t1", 3: "t3"}
    assert tasks[1].rev == await rev_of_task(store, 1)
    assert list(deals) == [5]
    assert await store.get_tasks([]) == {}


async def test_it_replaces_an_entity_when_the_read_revision_still_holds(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, text="v1"), None))
    rev1 = await rev_of_task(store, 1)

    assert await store.apply_change(put_task(a_task(1, text="v2"), rev1)) is not None

    cached = await store.get_task(1)
    assert cached is not None
    assert cached.value.text == "v2"
    assert cached.rev > rev1


async def test_it_refuses_a_change_based_on_a_stale_revision(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, text="v1"), None, an_event("e1")))
    rev1 = await rev_of_task(store, 1)
    await store.apply_change(put_task(a_task(1, text="v2"), rev1, an_event("e2")))
    rev2 = await rev_of_task(store, 1)

    assert await store.apply_change(put_task(a_task(1, text="v3"), rev1, an_event("e3"))) is None

    cached = await store.get_task(1)
    assert cached is not None
    assert (cached.value.text, cached.rev) == ("v2", rev2)
    assert await event_keys(store) == ["e1", "e2"]


async def test_it_refuses_to_create_what_is_already_cached(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, text="v1"), None))

    assert await store.apply_change(put_task(a_task(1, text="v2"), None, an_event("e"))) is None

    cached = await store.get_task(1)
    assert cached is not None
    assert cached.value.text == "v1"
    assert await event_keys(store) == []


async def test_it_refuses_a_change_to_a_revision_that_is_not_cached(store: Store) -> None:
    assert await store.apply_change(put_task(a_task(1), 1, an_event("e"))) is None

    assert await store.get_task(1) is None
    assert await event_keys(store) == []


async def test_it_removes_an_entity_when_the_change_holds_none(store: Store) -> None:
    await store.apply_change(put_task(a_task(1), None))
    await store.apply_change(EntityChange(kind="deal", id=1, expected_rev=None, new=a_deal(1)))
    deal = await store.get_deal(1)
    assert deal is not None

    remove_task = EntityChange(
        kind="task",
        id=1,
        expected_rev=await rev_of_task(store, 1),
        new=None,
        events=(an_event("deleted"),),
    )
    remove_deal = EntityChange(kind="deal", id=1, expected_rev=deal.rev, new=None)
    assert await store.apply_change(remove_task) is not None
    assert await store.apply_change(remove_deal) is not None

    assert await store.get_task(1) is None
    assert await store.get_deal(1) is None
    assert await event_keys(store) == ["deleted"]


async def test_it_accepts_removing_what_it_never_held(store: Store) -> None:
    gone = EntityChange(kind="task", id=1, expected_rev=None, new=None, events=(an_event("d"),))

    assert await store.apply_change(gone) is not None

    assert await store.get_task(1) is None
    assert await event_keys(store) == ["d"]


async def test_it_never_reuses_a_revision_after_a_removal(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, text="old"), None))
    old_rev = await rev_of_task(store, 1)
    await store.apply_change(EntityChange(kind="task", id=1, expected_rev=old_rev, new=None))
    await store.apply_change(put_task(a_task(1, text="new"), None))

    # A replica that read the old entity cannot overwrite the new one.
    assert await rev_of_task(store, 1) != old_rev
    assert await store.apply_change(put_task(a_task(1, text="stale"), old_rev)) is None


async def test_it_keeps_tasks_and_deals_with_the_same_id_apart(store: Store) -> None:
    await store.apply_change(put_task(a_task(3), None))

    assert await store.get_deal(3) is None
    assert (
        await store.apply_change(EntityChange(kind="deal", id=3, expected_rev=None, new=a_deal(3)))
        is not None
    )
    assert await store.get_task(3) is not None


async def test_it_rejects_a_change_whose_entity_is_not_the_one_it_names(store: Store) -> None:
    with pytest.raises(ValueError, match="task 2"):
        await store.apply_change(EntityChange(kind="task", id=2, expected_rev=None, new=a_task(1)))
    with pytest.raises(ValueError, match="deal 1"):
        await store.apply_change(EntityChange(kind="deal", id=1, expected_rev=None, new=a_task(1)))

    assert await store.get_task(1) is None
    assert await store.get_deal(1) is None


# --- open tasks --------------------------------------------------------------------------------


async def test_it_lists_open_tasks_by_deadline(store: Store) -> None:
    for task in (
        a_task(1, user=10, till=300),
        a_task(10, user=20, till=100),
        a_task(9, user=10, till=100),
        a_task(4, user=10, till=50, done=True),
    ):
        await store.apply_change(put_task(task, None))
    await store.apply_change(EntityChange(kind="deal", id=2, expected_rev=None, new=a_deal(2)))

    # Completed tasks and deals are not listed; equal deadlines come in id order.
    assert [t.id for t in await store.list_open_tasks()] == [9, 10, 1]
    assert await store.list_open_tasks() == [
        a_task(9, user=10, till=100),
        a_task(10, user=20, till=100),
        a_task(1, user=10, till=300),
    ]


async def test_it_lists_the_open_tasks_of_one_user(store: Store) -> None:
    for task in (
        a_task(1, user=10, till=300),
        a_task(2, user=20, till=100),
        a_task(3, user=10, till=200),
        a_task(4, user=10, till=50, done=True),
    ):
        await store.apply_change(put_task(task, None))

    assert [t.id for t in await store.list_open_tasks(10)] == [3, 1]
    assert [t.id for t in await store.list_open_tasks(20)] == [2]
    assert await store.list_open_tasks(30) == []


async def test_it_drops_a_completed_task_from_the_open_lists(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, user=10), None))
    rev = await rev_of_task(store, 1)

    await store.apply_change(put_task(a_task(1, user=10, done=True), rev))

    assert await store.list_open_tasks() == []
    assert await store.list_open_tasks(10) == []
    cached = await store.get_task(1)
    assert cached is not None
    assert cached.value.is_completed


async def test_it_lists_a_reopened_task_again(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, user=10, done=True), None))
    rev = await rev_of_task(store, 1)

    await store.apply_change(put_task(a_task(1, user=10), rev))

    assert [t.id for t in await store.list_open_tasks(10)] == [1]


async def test_it_drops_a_removed_task_from_the_open_lists(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, user=10), None))
    await store.apply_change(put_task(a_task(2, user=10), None))

    rev = await rev_of_task(store, 1)
    await store.apply_change(EntityChange(kind="task", id=1, expected_rev=rev, new=None))

    assert [t.id for t in await store.list_open_tasks()] == [2]
    assert [t.id for t in await store.list_open_tasks(10)] == [2]


async def test_it_moves_a_reassigned_task_between_open_lists(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, user=10), None))
    rev = await rev_of_task(store, 1)

    await store.apply_change(put_task(a_task(1, user=20), rev))

    assert await store.list_open_tasks(10) == []
    assert await store.list_open_tasks(20) == [a_task(1, user=20)]
    assert await store.list_open_tasks() == [a_task(1, user=20)]


async def test_it_reorders_a_task_whose_deadline_moved(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, till=100), None))
    await store.apply_change(put_task(a_task(2, till=200), None))
    rev = await rev_of_task(store, 1)

    await store.apply_change(put_task(a_task(1, till=300), rev))

    assert [t.id for t in await store.list_open_tasks()] == [2, 1]
    assert [t.id for t in await store.list_open_tasks(10)] == [2, 1]


# --- event journal -----------------------------------------------------------------------------


async def test_it_journals_an_event_key_only_once(store: Store) -> None:
    await store.apply_change(put_task(a_task(1, text="v1"), None, an_event("t1:v1")))
    rev = await rev_of_task(store, 1)

    # The entity is still written; only the already journaled event is skipped, and only the
    # new one is returned for the caller to act on.
    journaled = await store.apply_change(
        put_task(a_task(1, text="v2"), rev, an_event("t1:v1"), an_event("t1:v2"))
    )
    assert journaled is not None
    assert [e.key for e in journaled] == ["t1:v2"]

    assert await event_keys(store) == ["t1:v1", "t1:v2"]
    cached = await store.get_task(1)
    assert cached is not None
    assert cached.value.text == "v2"


async def test_it_hands_each_newly_journaled_event_to_every_fanout_queue_once(
    store: Store,
) -> None:
    change = put_task(a_task(1), None, an_event("late", at=300), an_event("early", at=100))
    await store.apply_change(change.model_copy(update={"fanout": ("la", "lb"), "hold_until": 50}))
    rev = await rev_of_task(store, 1)
    # Journaled already: not handed out again, even to a queue named anew.
    again = put_task(a_task(1, text="v2"), rev, an_event("early", at=100))
    await store.apply_change(again.model_copy(update={"fanout": ("la", "lc"), "hold_until": 50}))

    # Hidden until the hold is over (the committing process works on them meanwhile).
    assert await store.claim_due("la", 49, 10, 30) == []
    for queue in ("la", "lb"):
        items = await store.claim_due(queue, 50, 10, 30)
        assert sorted((i.due_at, i.item_id) for i in items) == [(100, "early"), (300, "late")]
        assert {CrmEvent.model_validate_json(i.payload).key for i in items} == {"early", "late"}
        assert all([await store.complete_due(i) for i in items])
    assert await store.count_due("lc") == 0
    assert await store.count_due("la") == 0


async def test_it_writes_fanout_entries_only_when_the_change_is_applied(store: Store) -> None:
    await store.apply_change(put_task(a_task(1), None))
    stale = put_task(a_task(1, text="v2"), None, an_event("t1:v2"))

    assert await store.apply_change(stale.model_copy(update={"fanout": ("la",)})) is None
    assert await store.count_due("la") == 0


async def test_it_journals_events_whole(store: Store) -> None:
    event = CrmEvent(
        key="t1:2:completed",
        kind=CrmEventKind.TASK_COMPLETED,
        entity_kind="task",
        entity_id=1,
        version=2,
        occurred_at=1_700_000_000,
        actor_id=10,
        task=a_task(1, done=True, text="«готово»\nok"),
        previous_task=a_task(1),
    )
    await store.apply_change(put_task(a_task(1, done=True), None, event))

    assert await store.recent_events() == [event]


async def test_it_returns_recent_events_since_a_moment_oldest_first(store: Store) -> None:
    await store.apply_change(
        put_task(a_task(1), None, an_event("at300", at=300), an_event("at100", at=100))
    )
    await store.apply_change(
        put_task(a_task(2), None, an_event("at200", at=200), an_event("at100b", at=100))
    )

    # Events of the same moment come in the order they were journaled.
    assert await event_keys(store) == ["at100", "at100b", "at200", "at300"]
    assert await event_keys(store, since=200) == ["at200", "at300"]
    assert await event_keys(store, since=201) == ["at300"]
    assert await event_keys(store, since=301) == []


async def test_it_returns_at_most_limit_recent_events(store: Store) -> None:
    await store.apply_change(
        put_task(a_task(1), None, *(an_event(f"e{i}", at=100 + i) for i in range(5)))
    )

    assert await event_keys(store, limit=2) == ["e0", "e1"]
    assert await event_keys(store, since=102, limit=2) == ["e2", "e3"]
    assert await event_keys(store, limit=0) == []


# --- due-time index ----------------------------------------------------------------------------


async def test_it_puts_entries_once_per_key_with_the_mark_in_the_same_step(store: Store) -> None:
    first = [DueEntry(item_id="a", due_at=10, payload="A"), DueEntry(item_id="b", due_at=20)]
    assert await store.put_due_once("q", first, "alert:1:ivan", 60)
    # A repeat (a listener given the event again after a crash) writes nothing.
    assert not await store.put_due_once("q", [DueEntry(item_id="c", due_at=5)], "alert:1:ivan", 60)
    assert not await store.mark_seen("alert:1:ivan", 60)

    items = await store.claim_due("q", 100, 10, 30)
    assert [(i.item_id, i.due_at, i.payload) for i in items] == [("a", 10, "A"), ("b", 20, "")]


async def test_it_puts_nothing_once_the_key_was_marked_by_mark_seen(store: Store) -> None:
    assert await store.mark_seen("reminder:7", 60)
    assert not await store.put_due_once("q", [DueEntry(item_id="a", due_at=1)], "reminder:7", 60)
    assert await store.count_due("q") == 0


async def test_it_puts_many_once_puts_in_one_write_each_on_its_own_key(store: Store) -> None:
    assert await store.mark_seen("reminder:2", 60)
    puts = [
        OncePut(queue="out", entries=(DueEntry(item_id="a", due_at=10, payload="A"),),
                key="reminder:1", ttl_s=60),
        OncePut(queue="out", entries=(DueEntry(item_id="b", due_at=11),), key="reminder:2",
                ttl_s=60),
        OncePut(queue="held", entries=(DueEntry(item_id="c", due_at=12),
                                       DueEntry(item_id="d", due_at=13)),
                key="reminder:3", ttl_s=60),
        # The same key twice in one call: the first one wins, as in two calls.
        OncePut(queue="out", entries=(DueEntry(item_id="e", due_at=14),), key="reminder:1",
                ttl_s=60),
    ]  # fmt: skip
    assert await store.put_due_once_many(puts) == [True, False, True, False]
    assert await store.put_due_once_many([]) == []
    assert await store.put_due_once_many(puts[:1]) == [False]  # a repeat after a crash
    assert not await store.mark_seen("reminder:3", 60)

    out = await store.claim_due("out", 100, 10, 30)
    assert [(i.item_id, i.due_at, i.payload) for i in out] == [("a", 10, "A")]
    held = await store.claim_due("held", 100, 10, 30)
    assert [i.item_id for i in held] == ["c", "d"]
    assert len({i.token for i in [*out, *held]}) == 3


async def test_grouped_once_puts_of_concurrent_callers_queue_each_key_once(store: Store) -> None:
    grouped = GroupedOnce(store)
    entry = [DueEntry(item_id="x", due_at=1)]

    async def put(n: int) -> bool:
        return await grouped.put_due_once("q", [DueEntry(item_id=f"i{n}", due_at=n)],
                                          f"k{n % 30}", 60)  # fmt: skip

    results = await asyncio.gather(*(put(n) for n in range(60)))
    # Each key queued exactly once, whichever caller's write carried it.
    assert results == [True] * 30 + [False] * 30
    assert await store.count_due("q") == 30
    assert not await grouped.put_due_once("q", entry, "k0", 60)
    assert await grouped.put_due_once("q", entry, "k-new", 60)


async def test_it_puts_many_due_items_at_once_replacing_existing_ones(store: Store) -> None:
    await store.put_due("q", "a", 1.0, "old")
    await store.put_due_many(
        "q", [DueEntry(item_id="a", due_at=2.0, payload="new"), DueEntry(item_id="b", due_at=1.0)]
    )
    await store.put_due_many("q", [])

    claimed = await store.claim_due("q", now=5.0, limit=10, lease_s=60)
    assert [(i.item_id, i.due_at, i.payload) for i in claimed] == [
        ("b", 1.0, ""),
        ("a", 2.0, "new"),
    ]
    assert await store.count_due("q") == 2


async def test_a_large_batch_of_due_items_is_stored_whole_and_a_repeated_one_once(
    store: Store,
) -> None:
    # More rows than one SQLite statement takes: the batch is still one transaction.
    entries = [DueEntry(item_id=f"i{n:04}", due_at=float(n), payload=f"p{n}") for n in range(500)]
    entries.append(DueEntry(item_id="i0007", due_at=7.0, payload="last wins"))
    await store.put_due_many("q", entries)

    claimed = await store.claim_due("q", now=1000.0, limit=1000, lease_s=60)
    assert len(claimed) == 500
    assert {i.item_id: i.payload for i in claimed}["i0007"] == "last wins"


async def test_a_large_queue_is_claimed_earliest_first_and_counted_through_its_changes(
    store: Store,
) -> None:
    # Enough items that Redis spreads them over many buckets, put in an order unlike their times.
    times = {f"{n}:10": float((n * 7919) % 1200) for n in range(1200)}
    items = list(times.items())
    for first in range(0, len(items), 100):
        await store.put_due_many("q", [DueEntry(item_id=i, due_at=t, payload=i)
                                       for i, t in items[first : first + 100]])  # fmt: skip
    for n in range(0, 1200, 3):
        await store.cancel_due("q", f"{n}:10")
        del times[f"{n}:10"]
    assert await store.count_due("q") == len(times) == 800
    assert await store.earliest_due("q") == min(times.values())

    claimed: list[DueItem] = []
    while batch := await store.claim_due("q", now=599.0, limit=37, lease_s=10_000):
        claimed += batch
    expected = sorted((t, i) for i, t in times.items() if t <= 599.0)
    assert [(i.due_at, i.item_id) for i in claimed] == expected
    assert all(i.payload == i.item_id for i in claimed)
    assert await store.count_due("q") == 800
    assert all([await store.complete_due(i) for i in claimed])
    assert await store.count_due("q") == 800 - len(claimed)


@pytest.mark.parametrize("q", ["q", "side"])  # Redis: a long queue (buckets), another (side)
async def test_the_due_index_agrees_with_a_plain_model_through_random_operations(
    store: Store, q: str
) -> None:
    # Puts, cancels, claims, completes and extensions at random (seeded), checked against a
    # dict: Redis's buckets split as the queue grows past 32 entries a bucket and start over
    # when it empties, and none of that may show.
    rng = random.Random(15)
    model: dict[str, tuple[float, float, str, str | None]] = {}  # visible, due, payload, token
    claims: list[DueItem] = []
    now = 1_000.0
    for step in range(1_500):
        roll = rng.random()
        if roll < 0.4:
            entries = [DueEntry(item_id=f"{rng.randrange(400)}:7", payload=str(step),
                                due_at=round(now + rng.uniform(-50, 200), 3))
                       for _ in range(rng.randrange(1, 30))]  # fmt: skip
            await store.put_due_many(q, entries)
            model.update({e.item_id: (e.due_at, e.due_at, e.payload, None) for e in entries})
        elif roll < 0.5 and model:
            gone = rng.choice(sorted(model))
            await store.cancel_due(q, gone)
            del model[gone]
        elif roll < 0.75:
            limit, lease = rng.randrange(1, 25), rng.uniform(5, 60)
            got = await store.claim_due(q, now, limit, lease)
            due = sorted(v[0] for v in model.values() if v[0] <= now)[:limit]
            assert [model[i.item_id][0] for i in got] == due  # earliest first, up to the limit
            for item in got:
                _, due_at, payload, _ = model[item.item_id]
                assert (item.due_at, item.payload) == (due_at, payload)
                model[item.item_id] = (now + lease, due_at, payload, item.token)
            claims += got
        elif roll < 0.88 and claims:
            item = claims.pop(rng.randrange(len(claims)))
            holds = item.item_id in model and model[item.item_id][3] == item.token
            assert await store.complete_due(item) == holds
            if holds:
                del model[item.item_id]
        elif claims:
            some = rng.sample(claims, min(len(claims), 5))
            until = now + rng.uniform(5, 60)
            held = {
                i.item_id for i in some if i.item_id in model and model[i.item_id][3] == i.token
            }
            assert await store.extend_claims(some, until) == held
            model.update({i: (until, *model[i][1:]) for i in held})
        now += rng.uniform(0, 4)
        if step % 100 == 0:
            assert await store.count_due(q) == len(model)
            assert await store.earliest_due(q) == min((v[0] for v in model.values()), default=None)

    for item_id in list(model):
        await store.cancel_due(q, item_id)
    assert (await store.count_due(q), await store.earliest_due(q)) == (0, None)
    await store.put_due_many(
        q, [DueEntry(item_id=f"again{n}", due_at=float(n)) for n in range(40)]
    )
    again = await store.claim_due(q, now=100.0, limit=100, lease_s=60)
    assert [i.item_id for i in again] == [f"again{n}" for n in range(40)]


async def test_due_items_come_back_exactly_as_put_whatever_their_text(store: Store) -> None:
    # Redis takes a batch as one JSON argument: every character and every digit of a moment
    # must survive the trip.
    tricky = ["", "line\nbreak", '{"quoted": "\\"}', "Задача ✔ 𝟘", "tab\there\r\n", "\u0000"]
    entries = [
        DueEntry(item_id=f"{n}:{text[:4]}", due_at=1733380000.123456 + n / 7, payload=text)
        for n, text in enumerate(tricky)
    ]
    await store.put_due_many("q", entries)

    claimed = await store.claim_due("q", now=2e9, limit=10, lease_s=60)
    assert sorted((i.item_id, i.due_at, i.payload) for i in claimed) == sorted(
        (e.item_id, e.due_at, e.payload) for e in entries
    )


async def test_it_claims_due_items_earliest_first_up_to_the_limit(store: Store) -> None:
    await store.put_due("q", "a", 30.0, "pa")
    await store.put_due("q", "b", 10.0, "pb")
    await store.put_due("q", "c", 20.5, "pc")
    await store.put_due("q", "later", 100.0, "pl")

    first = await store.claim_due("q", 30.0, 2, 60)
    second = await store.claim_due("q", 30.0, 10, 60)

    assert [(i.item_id, i.due_at, i.payload) for i in first] == [
        ("b", 10.0, "pb"),
        ("c", 20.5, "pc"),
    ]
    # Due exactly at ``now`` counts as due; the later item stays.
    assert [(i.item_id, i.due_at, i.payload, i.queue) for i in second] == [("a", 30.0, "pa", "q")]
    assert await store.claim_due("q", 30.0, 10, 60) == []


async def test_it_claims_nothing_with_a_zero_limit(store: Store) -> None:
    await store.put_due("q", "a", 1.0)

    assert await store.claim_due("q", 10.0, 0, 60) == []
    assert len(await store.claim_due("q", 10.0, 1, 60)) == 1


async def test_it_gives_a_claimed_item_back_after_its_lease(store: Store) -> None:
    await store.put_due("q", "a", 10.0, "p")
    [claimed] = await store.claim_due("q", 50.0, 10, 60)

    assert await store.claim_due("q", 109.9, 10, 60) == []
    [again] = await store.claim_due("q", 110.0, 10, 60)

    # The claimer that let its lease run out can no longer complete it; the new one can.
    assert (again.item_id, again.due_at, again.payload) == ("a", 10.0, "p")
    assert again.token != claimed.token
    assert not await store.complete_due(claimed)
    assert await store.count_due("q") == 1
    assert await store.complete_due(again)
    assert await store.count_due("q") == 0


async def test_it_keeps_a_claim_its_holder_extends(store: Store) -> None:
    await store.put_due("q", "a", 10.0, "p")
    await store.put_due("q", "b", 10.0, "p")
    claimed = await store.claim_due("q", 50.0, 10, 5)

    assert await store.extend_claims(claimed, 60.0) == {"a", "b"}
    # Past the first lease, before the extended one: nobody else gets them.
    assert await store.claim_due("q", 59.9, 10, 5) == []
    again = await store.claim_due("q", 60.0, 10, 5)

    # Once claimed by another, the first holder can no longer extend (nor complete) them.
    assert await store.extend_claims(claimed, 100.0) == set()
    assert await store.extend_claims(again, 70.0) == {"a", "b"}
    assert await store.claim_due("q", 69.9, 10, 5) == []
    assert not await store.complete_due(claimed[0])
    assert await store.complete_due(again[0])


async def test_it_extends_no_claim_that_is_gone_or_put_again(store: Store) -> None:
    for item_id in ("done", "cancelled", "put-again", "kept"):
        await store.put_due("q", item_id, 10.0)
    claimed = {i.item_id: i for i in await store.claim_due("q", 10.0, 10, 5)}
    await store.complete_due(claimed["done"])
    await store.cancel_due("q", "cancelled")
    await store.put_due("q", "put-again", 12.0, "new")

    assert await store.extend_claims(list(claimed.values()), 100.0) == {"kept"}
    # Nothing completed or cancelled comes back; the item put again is due as it was put.
    assert await store.count_due("q") == 2
    [fresh] = await store.claim_due("q", 99.0, 10, 5)
    assert (fresh.item_id, fresh.payload) == ("put-again", "new")
    assert await store.extend_claims([], 100.0) == set()


async def test_it_extends_a_thousand_claims_at_once_and_only_those_still_held(
    store: Store,
) -> None:
    # More than one statement's worth on SQLite; some put again or done, one with a stale token.
    await store.put_due_many("q", [DueEntry(item_id=f"i{n:03}", due_at=10.0) for n in range(1000)])
    claimed = await store.claim_due("q", 10.0, 1000, 5)
    await store.put_due("q", "i003", 10.0)
    await store.complete_due(claimed[500])
    stale = claimed[999].model_copy(update={"token": "not-its-token"})

    held = await store.extend_claims([*claimed[:999], stale], 100.0)

    assert held == {f"i{n:03}" for n in range(999)} - {"i003", "i500"}
    # Before the extended leases end: the item put again, and the one whose lease ran out (its
    # renewal named a token that was not its claim's).
    assert [i.item_id for i in await store.claim_due("q", 99.0, 1000, 5)] == ["i003", "i999"]


async def test_it_refuses_to_extend_claims_of_several_queues(store: Store) -> None:
    await store.put_due("q", "a", 10.0)
    await store.put_due("r", "a", 10.0)
    items = [*await store.claim_due("q", 10.0, 1, 5), *await store.claim_due("r", 10.0, 1, 5)]

    with pytest.raises(ValueError, match="several queues"):
        await store.extend_claims(items, 100.0)


async def test_it_completes_a_claimed_item_once(store: Store) -> None:
    await store.put_due("q", "a", 10.0)
    await store.put_due("q", "b", 10.0)
    [item, _] = await store.claim_due("q", 10.0, 10, 60)

    assert await store.complete_due(item)
    assert not await store.complete_due(item)

    assert await store.count_due("q") == 1
    forged = DueItem(queue="q", item_id="b", due_at=10.0, token="not-the-token")
    assert not await store.complete_due(forged)
    assert await store.count_due("q") == 1


async def test_it_keeps_an_item_that_was_put_again_while_claimed(store: Store) -> None:
    await store.put_due("q", "a", 10.0, "old")
    [claimed] = await store.claim_due("q", 10.0, 10, 60)

    await store.put_due("q", "a", 20.0, "new")

    assert not await store.complete_due(claimed)
    assert await store.count_due("q") == 1
    [fresh] = await store.claim_due("q", 20.0, 10, 60)
    assert (fresh.due_at, fresh.payload) == (20.0, "new")


async def test_it_gives_every_put_and_every_claim_a_new_token(store: Store) -> None:
    tokens = set()
    for now in (10.0, 20.0):
        await store.put_due("q", "a", now)
        [first] = await store.claim_due("q", now, 1, 1)
        [second] = await store.claim_due("q", now + 1, 1, 1)
        tokens |= {first.token, second.token}

    assert len(tokens) == 4


async def test_it_replaces_an_item_that_is_put_again(store: Store) -> None:
    await store.put_due("q", "a", 10.0, "first")
    await store.put_due("q", "a", 20.0, "second")

    assert await store.count_due("q") == 1
    assert await store.claim_due("q", 15.0, 10, 60) == []
    [item] = await store.claim_due("q", 20.0, 10, 60)
    assert item.payload == "second"


async def test_it_cancels_items_claimed_or_not(store: Store) -> None:
    await store.put_due("q", "a", 10.0)
    await store.put_due("q", "b", 10.0)
    [claimed] = await store.claim_due("q", 10.0, 1, 60)

    await store.cancel_due("q", "a")
    await store.cancel_due("q", "b")
    await store.cancel_due("q", "never-put")

    assert await store.count_due("q") == 0
    assert not await store.complete_due(claimed)
    assert await store.claim_due("q", 1_000.0, 10, 60) == []


async def test_it_counts_the_items_of_a_queue_claimed_ones_included(store: Store) -> None:
    assert await store.count_due("q") == 0
    for n in range(3):
        await store.put_due("q", f"i{n}", 10.0 + n)
    await store.put_due("q", "later", 1_000.0)

    await store.claim_due("q", 20.0, 2, 60)

    assert await store.count_due("q") == 4


async def test_it_keeps_queues_apart(store: Store) -> None:
    await store.put_due("reminders", "x", 10.0, "r")
    await store.put_due("inbox", "x", 10.0, "i")

    [item] = await store.claim_due("inbox", 10.0, 10, 60)
    await store.complete_due(item)

    assert (item.queue, item.payload) == ("inbox", "i")
    assert await store.count_due("inbox") == 0
    assert await store.count_due("reminders") == 1


async def test_it_round_trips_ids_payloads_and_times_verbatim(store: Store) -> None:
    odd = {
        "task:1:60": '{"a": "b\\n"}',
        "with space": "two\nlines\n\n",
        "ключ": "«значение» 🚀",
        "empty": "",
    }
    for item_id, payload in odd.items():
        await store.put_due("q:x", item_id, 1_700_000_000.123456, payload)

    claimed = await store.claim_due("q:x", 1_700_000_000.123456, 10, 60)

    assert {i.item_id: i.payload for i in claimed} == odd
    assert {i.due_at for i in claimed} == {1_700_000_000.123456}


# --- documents ---------------------------------------------------------------------------------


async def live_docs_gone(store: Store, ns: str, *keys: str) -> bool:
    """True once none of ``keys`` is readable or listed any more."""
    listed = await store.list_docs(ns)
    got = [await store.get_doc(ns, key) for key in keys]
    return all(key not in listed for key in keys) and got == [None] * len(keys)


async def test_it_round_trips_documents_per_namespace_and_key(store: Store) -> None:
    odd = {
        "user:1:chat": '{"a": "b\\n"}',
        "with space": "two\nlines\n\n",
        "ключ": "«значение» 🚀",
        "empty": "",
    }
    assert await store.get_doc("links", "user:1:chat") is None

    for key, value in odd.items():
        await store.put_doc("links", key, value)

    assert {key: await store.get_doc("links", key) for key in odd} == odd
    assert await store.get_doc("prefs", "user:1:chat") is None
    assert await store.get_doc("links", "user:1") is None


async def test_it_replaces_a_document(store: Store) -> None:
    await store.put_doc("prefs", "u1", "v1")
    await store.put_doc("prefs", "u1", "v2")

    assert await store.get_doc("prefs", "u1") == "v2"
    assert await store.list_docs("prefs") == {"u1": "v2"}


async def test_it_forgets_a_document_after_its_ttl(store: Store) -> None:
    await store.put_doc("codes", "c1", "u1", ttl_s=0.05)
    await store.put_doc("codes", "keep", "u2", ttl_s=60)
    assert await store.get_doc("codes", "c1") == "u1"

    # Reads alone, no write or listing between them, see it go.
    async def gone() -> bool:
        return await store.get_doc("codes", "c1") is None

    await eventually(gone)

    assert not await store.swap_doc("codes", "c1", "u1", "x")
    assert await store.list_docs("codes") == {"keep": "u2"}
    assert await store.get_doc("codes", "keep") == "u2"


async def test_it_replaces_the_ttl_of_a_document_along_with_its_value(store: Store) -> None:
    await store.put_doc("codes", "was-expiring", "old", ttl_s=0.05)
    await store.put_doc("codes", "was-expiring", "new")
    await store.put_doc("codes", "now-expiring", "old")
    await store.put_doc("codes", "now-expiring", "new", ttl_s=0.05)

    await eventually(lambda: live_docs_gone(store, "codes", "now-expiring"))
    await asyncio.sleep(0.05)  # well past the first TTL too

    assert await store.get_doc("codes", "was-expiring") == "new"
    assert await store.list_docs("codes") == {"was-expiring": "new"}


async def test_it_creates_a_document_by_swap_only_once(store: Store) -> None:
    assert await store.swap_doc("links", "k", None, "first")
    assert not await store.swap_doc("links", "k", None, "second")

    assert await store.get_doc("links", "k") == "first"


async def test_it_swaps_a_document_only_from_the_expected_value(store: Store) -> None:
    await store.put_doc("dialogs", "chat:1", "step1")

    assert not await store.swap_doc("dialogs", "chat:1", "step0", "step2")
    assert not await store.swap_doc("dialogs", "chat:1", "step0", None)
    assert await store.get_doc("dialogs", "chat:1") == "step1"

    assert await store.swap_doc("dialogs", "chat:1", "step1", "step2")
    assert await store.get_doc("dialogs", "chat:1") == "step2"
    assert not await store.swap_doc("dialogs", "chat:1", "step1", "step3")
    assert await store.get_doc("dialogs", "chat:1") == "step2"
    # Not the same as absent: an empty value is a value.
    assert not await store.swap_doc("dialogs", "chat:1", "", "step3")
    assert not await store.swap_doc("dialogs", "other", "", "x")
    assert await store.get_doc("dialogs", "other") is None


async def test_it_deletes_a_document_by_swapping_in_none(store: Store) -> None:
    await store.put_doc("dialogs", "chat:1", "done")

    assert await store.swap_doc("dialogs", "chat:1", "done", None)

    assert await store.get_doc("dialogs", "chat:1") is None
    assert await store.list_docs("dialogs") == {}
    # Absent stays absent: expected None, value None holds and succeeds.
    assert await store.swap_doc("dialogs", "chat:1", None, None)
    assert await store.swap_doc("dialogs", "chat:1", None, "again")
    assert await store.get_doc("dialogs", "chat:1") == "again"


async def test_it_swaps_in_a_document_with_a_ttl(store: Store) -> None:
    await store.put_doc("codes", "c1", "v1")

    assert await store.swap_doc("codes", "c1", "v1", "v2", ttl_s=0.05)
    assert await store.get_doc("codes", "c1") == "v2"

    await eventually(lambda: live_docs_gone(store, "codes", "c1"))
    # A swap without a TTL makes the document permanent again.
    assert await store.swap_doc("codes", "c1", None, "v3", ttl_s=0.05)
    assert await store.swap_doc("codes", "c1", "v3", "v4")
    await asyncio.sleep(0.1)
    assert await store.get_doc("codes", "c1") == "v4"


async def test_it_counts_an_expired_document_as_absent_when_swapping(store: Store) -> None:
    await store.put_doc("codes", "c1", "old", ttl_s=0.05)
    await store.put_doc("codes", "c2", "old", ttl_s=0.05)

    await eventually(lambda: live_docs_gone(store, "codes", "c1", "c2"))

    assert not await store.swap_doc("codes", "c1", "old", "new")
    assert await store.get_doc("codes", "c1") is None
    assert not await store.swap_doc("codes", "c2", "old", None)
    assert await store.swap_doc("codes", "c1", None, "new")
    assert await store.swap_doc("codes", "c2", None, None)
    assert await store.list_docs("codes") == {"c1": "new"}


async def test_it_lists_only_the_live_documents_of_a_namespace(store: Store) -> None:
    assert await store.list_docs("links") == {}
    await store.put_doc("links", "user:1:chat", "a")
    await store.put_doc("links", "b", "")
    await store.put_doc("links", "expiring", "c", ttl_s=0.05)
    await store.put_doc("links", "x:y", "ns links, key x:y")
    await store.put_doc("links:x", "y", "ns links:x, key y")
    await store.put_doc("prefs", "b", "other namespace")

    await eventually(lambda: live_docs_gone(store, "links", "expiring"))

    assert await store.list_docs("links") == {
        "user:1:chat": "a",
        "b": "",
        "x:y": "ns links, key x:y",
    }
    assert await store.list_docs("links:x") == {"y": "ns links:x, key y"}
    assert await store.get_doc("links:x", "y") == "ns links:x, key y"
    assert await store.list_docs("prefs") == {"b": "other namespace"}
    assert await store.list_docs("nothing") == {}


async def test_it_deletes_a_document(store: Store) -> None:
    await store.put_doc("links", "a", "1")
    await store.put_doc("links", "b", "2", ttl_s=60)
    await store.put_doc("prefs", "a", "3")

    await store.delete_doc("links", "a")
    await store.delete_doc("links", "b")
    await store.delete_doc("links", "never-put")

    assert await store.get_doc("links", "a") is None
    assert await store.get_doc("links", "b") is None
    assert await store.list_docs("links") == {}
    assert await store.get_doc("prefs", "a") == "3"
    # A deleted document can be created again, and a TTL it had does not come back.
    assert await store.swap_doc("links", "b", None, "again")
    await asyncio.sleep(0.05)
    assert await store.get_doc("links", "b") == "again"


# --- append-only lists -------------------------------------------------------------------------


async def test_it_reads_a_list_in_append_order(store: Store) -> None:
    assert await store.read_list("log", "n1") == []
    values = ["first", "", "two\nlines", "«третий» 🚀", "first"]

    for value in values:
        await store.append("log", "n1", value)

    assert await store.read_list("log", "n1") == values


async def test_it_drops_the_oldest_values_past_max_len(store: Store) -> None:
    for n in range(5):
        await store.append("log", "n1", f"v{n}", max_len=3)
    assert await store.read_list("log", "n1") == ["v2", "v3", "v4"]

    await store.append("log", "n1", "v5", max_len=10)
    assert await store.read_list("log", "n1") == ["v2", "v3", "v4", "v5"]
    await store.append("log", "n1", "v6", max_len=1)
    assert await store.read_list("log", "n1") == ["v6"]


async def test_it_keeps_lists_apart_by_namespace_and_key(store: Store) -> None:
    await store.append("a:b", "c", "ns a:b, key c")
    await store.append("a", "b:c", "ns a, key b:c")
    await store.append("a", "b", "ns a, key b")
    await store.append("x", "b", "ns x, key b")

    assert await store.read_list("a:b", "c") == ["ns a:b, key c"]
    assert await store.read_list("a", "b:c") == ["ns a, key b:c"]
    assert await store.read_list("a", "b") == ["ns a, key b"]
    assert await store.read_list("x", "b") == ["ns x, key b"]


# --- a log by time -----------------------------------------------------------------------------


async def test_it_reads_a_log_by_moment_within_the_window(store: Store) -> None:
    assert await store.read_log("activity", 0, 1e12, limit=10) == []
    logged = [(300.5, "c"), (100.0, "a"), (200.0, "b:1 «два»"), (400.0, "d"), (200.0, "b")]
    for at, value in logged:
        await store.add_log("activity", at, value)
    await store.add_log("other", 250.0, "elsewhere")

    assert await store.read_log("activity", 100.0, 400.0, limit=10) in (
        ["a", "b:1 «два»", "b", "c"], ["a", "b", "b:1 «два»", "c"],
    )  # fmt: skip
    assert await store.read_log("activity", 150.0, 1e12, limit=2) in (
        ["b:1 «два»", "b"], ["b", "b:1 «два»"],
    )  # fmt: skip
    assert await store.read_log("activity", 300.5, 300.6, limit=10) == ["c"]
    assert await store.read_log("other", 0, 1e12, limit=10) == ["elsewhere"]
    assert await store.count_log("activity", 100.0, 400.0) == 4  # as read: the end left out
    assert await store.count_log("activity", 200.0, 200.1) == 2
    assert await store.count_log("other", 0, 250.0) == 0


async def test_it_keeps_equal_log_values_apart_and_trims_the_old_ones(store: Store) -> None:
    for at in (10.0, 10.0, 20.0, 30.0):
        await store.add_log("activity", at, "same")

    assert await store.read_log("activity", 0, 100, limit=10) == ["same"] * 4
    assert await store.trim_log("activity", 20.0) == 2
    assert await store.trim_log("activity", 20.0) == 0
    assert await store.count_log("activity", 0, 100) == 2
    assert await store.read_log("activity", 0, 100, limit=10) == ["same"] * 2
    assert await store.read_list("a", "c") == []


async def test_it_refuses_a_list_that_may_hold_nothing(store: Store) -> None:
    with pytest.raises(ValueError, match="max_len"):
        await store.append("log", "n1", "v", max_len=0)

    assert await store.read_list("log", "n1") == []


# --- races between two instances ---------------------------------------------------------------


async def test_it_hands_each_due_item_to_one_of_two_concurrent_claimers(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    ids = {f"item-{n}" for n in range(300)}
    for item_id in ids:
        await a.put_due("q", item_id, 10.0)

    async def worker(store: Store) -> list[DueItem]:
        got: list[DueItem] = []
        while batch := await store.claim_due("q", 20.0, 7, 60):
            got += batch
        return got

    results = await asyncio.gather(*(worker(s) for s in (a, b) * 4))
    claimed = [item for batch in results for item in batch]

    assert sorted(i.item_id for i in claimed) == sorted(ids)
    done = await race(two_stores, len(claimed), lambda s, n: s.complete_due(claimed[n]))
    assert all(done)
    assert await a.count_due("q") == 0


async def test_it_lets_exactly_one_of_concurrent_same_revision_changes_win(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    await a.apply_change(put_task(a_task(1, text="v1"), None))
    rev = await rev_of_task(b, 1)

    # Every contender saw the same hint, so all carry its event; each adds one of its own.
    results = await race(two_stores, 10, lambda s, n: s.apply_change(
        put_task(a_task(1, text=f"by {n}"), rev, an_event("t1:v2"), an_event(f"own {n}"))
    ))  # fmt: skip

    winners = [n for n, result in enumerate(results) if result is not None]
    assert len(winners) == 1
    [winner] = winners
    journaled = results[winner]
    assert journaled is not None
    assert [e.key for e in journaled] == ["t1:v2", f"own {winner}"]
    assert await event_keys(a) == ["t1:v2", f"own {winner}"]
    cached = await b.get_task(1)
    assert cached is not None
    assert cached.value.text == f"by {winner}"


async def test_it_lets_exactly_one_of_concurrent_creations_win(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores

    results = await race(two_stores, 10, lambda s, n: s.apply_change(
        put_task(a_task(1, text=f"by {n}"), None, an_event("t1:created"))
    ))  # fmt: skip

    assert sum(result is not None for result in results) == 1
    assert await event_keys(b) == ["t1:created"]
    assert len(await a.list_open_tasks()) == 1


async def test_it_grants_a_contested_lease_to_exactly_one_owner(
    two_stores: tuple[Store, Store],
) -> None:
    results = await race(
        two_stores, 10, lambda s, n: s.acquire_lease("token-refresh", f"owner-{n}", 30)
    )

    assert results.count(True) == 1


async def test_it_hands_an_expired_lease_to_an_owner_on_another_instance(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    assert await a.acquire_lease("token-refresh", "replica-a", 0.05)
    assert not await b.acquire_lease("token-refresh", "replica-b", 30)

    await eventually(lambda: b.acquire_lease("token-refresh", "replica-b", 30))

    assert not await a.acquire_lease("token-refresh", "replica-a", 30)


async def test_two_instances_share_one_window(two_stores: tuple[Store, Store]) -> None:
    window = 5.0

    started = time.monotonic()
    waits = await race(two_stores, 20, lambda s, _: s.reserve_in_window("amocrm", 4, window))
    spread = time.monotonic() - started

    # Sorted, the implied moments come four at once, then four a window later, and so on.
    assert spread < 1, "calls too slow for this check to mean anything"
    ordered = sorted(waits)
    for n, wait in enumerate(ordered):
        assert (n // 4) * window - spread <= wait <= (n // 4) * window + spread


async def test_it_spaces_slots_reserved_from_two_instances(
    two_stores: tuple[Store, Store],
) -> None:
    interval = 5.0

    started = time.monotonic()
    waits = await race(two_stores, 20, lambda s, _: s.reserve_slot("amocrm", interval))
    spread = time.monotonic() - started

    # Slot = (moment of the call) + wait, and every call happened within ``spread``; so the
    # implied slots are spaced ``interval`` apart exactly when sorted waits are, give or take it.
    assert spread < 1, "calls too slow for this check to mean anything"
    ordered = sorted(waits)
    assert 0 <= ordered[0] <= spread
    for earlier, later in itertools.pairwise(ordered):
        assert interval - spread <= later - earlier <= interval + spread


async def test_it_marks_a_key_seen_once_under_concurrency(
    two_stores: tuple[Store, Store],
) -> None:
    results = await race(two_stores, 20, lambda s, _: s.mark_seen("amocrm:event:42", 60))

    assert results.count(True) == 1


async def test_it_lets_exactly_one_of_concurrent_document_creations_win(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores

    results = await race(two_stores, 20, lambda s, n: s.swap_doc("links", "user:1", None, f"v{n}"))

    assert results.count(True) == 1
    winner = results.index(True)
    assert await a.get_doc("links", "user:1") == f"v{winner}"
    assert await b.list_docs("links") == {"user:1": f"v{winner}"}


async def test_it_lets_exactly_one_of_concurrent_document_swaps_win(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    await a.put_doc("dialogs", "chat:1", "v0", ttl_s=60)

    results = await race(
        two_stores, 20, lambda s, n: s.swap_doc("dialogs", "chat:1", "v0", f"v{n + 1}", ttl_s=60)
    )

    assert results.count(True) == 1
    assert await b.get_doc("dialogs", "chat:1") == f"v{results.index(True) + 1}"


async def test_it_keeps_every_value_appended_from_two_instances(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores

    await race(two_stores, 20, lambda s, n: s.append("log", "n1", f"v{n}"))
    await race(two_stores, 20, lambda s, n: s.append("log", "n2", f"v{n}", max_len=5))

    assert sorted(await b.read_list("log", "n1")) == sorted(f"v{n}" for n in range(20))
    assert len(await a.read_list("log", "n2")) == 5


async def test_it_stays_usable_after_cancelled_calls(two_stores: tuple[Store, Store]) -> None:
    a, b = two_stores
    for n in range(10):
        await a.put_due("q", f"i{n}", 10.0)

    # Cancel calls at every early point of their life: before, during and after their
    # transaction or script. None may leave a transaction open or a lock held.
    for spins in range(8):
        call = asyncio.create_task(a.claim_due("q", 20.0, 1, 60))
        for _ in range(spins):
            await asyncio.sleep(0)
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call

    await asyncio.wait_for(a.put_due("q", "after-a", 10.0), 5)
    await asyncio.wait_for(b.put_due("q", "after-b", 10.0), 5)
    assert await a.count_due("q") == 12
    assert (
        len(await b.claim_due("q", 20.0, 100, 60)) + len(await a.claim_due("q", 20.0, 100, 60))
        >= 2
    )


# --- opening -----------------------------------------------------------------------------------


async def test_it_opens_either_backend_from_its_url(backend: tuple[str, str, str]) -> None:
    kind, where, prefix = backend
    url = f"sqlite:///{where}" if kind == "sqlite" else where
    store = await open_store(url, key_prefix=prefix)
    try:
        await store.set_cursor("c", "1")
        assert await store.get_cursor("c") == "1"
    finally:
        await store.close()
        if kind == "redis":
            client = Redis.from_url(where, decode_responses=True)
            await client.delete(f"{prefix}cursor:c")
            await client.aclose()


async def test_it_versions_the_sqlite_schema_and_uses_wal(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    store = await SqliteStore.open(path)
    await store.close()

    async with aiosqlite.connect(path) as db:
        async with db.execute("PRAGMA user_version") as cur:
            assert await cur.fetchone() == (SCHEMA_VERSION,)
        async with db.execute("PRAGMA journal_mode") as cur:
            assert await cur.fetchone() == ("wal",)


async def test_it_migrates_a_sqlite_file_from_an_older_version_keeping_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "store.db")
    tokens = OAuthTokens(access_token="a", refresh_token="r", expires_at=1)
    with monkeypatch.context() as older:
        older.setattr(sqlite_store, "_MIGRATIONS", sqlite_store._MIGRATIONS[:1])
        older.setattr(sqlite_store, "SCHEMA_VERSION", 1)
        store = await SqliteStore.open(path)
        await store.save_tokens("amocrm", tokens)
        await store.close()

    store = await SqliteStore.open(path)
    try:
        assert await store.load_tokens("amocrm") == tokens
        await store.put_doc("links", "k", "v")
        assert await store.get_doc("links", "k") == "v"
    finally:
        await store.close()
    async with aiosqlite.connect(path) as db, db.execute("PRAGMA user_version") as cur:
        assert await cur.fetchone() == (SCHEMA_VERSION,)


async def test_it_migrates_due_entries_of_the_older_sqlite_layout_and_fires_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "store.db")
    with monkeypatch.context() as older:
        older.setattr(sqlite_store, "_MIGRATIONS", sqlite_store._MIGRATIONS[:3])
        older.setattr(sqlite_store, "SCHEMA_VERSION", 3)
        await (await SqliteStore.open(path)).close()
    # Rows as version 3 wrote them: a token on every put, the queue by name; "held" is claimed.
    async with aiosqlite.connect(path) as db:
        await db.executemany(
            "INSERT INTO due (queue, item_id, due_at, visible_at, payload, token)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("reminders", "7:10", 100.0, 100.0, "before:15", "t1"),
                ("reminders", "8:10", 50.5, 50.5, "due", "t2"),
                ("reminders", "held", 40.0, 1_000.0, "p", "claim-token"),
                ("outbox:telegram", "m1", 60.0, 60.0, "{}", "t3"),
            ],
        )
        await db.commit()

    store = await SqliteStore.open(path)
    try:
        assert await store.count_due("reminders") == 3
        claimed = await store.claim_due("reminders", now=200.0, limit=10, lease_s=60)
        assert [(i.item_id, i.due_at, i.payload) for i in claimed] == [
            ("8:10", 50.5, "due"),
            ("7:10", 100.0, "before:15"),
        ]
        # The claim made before the upgrade is still its holder's to complete.
        held = DueItem(queue="reminders", item_id="held", due_at=40.0, token="claim-token")
        assert await store.complete_due(held)
        assert all([await store.complete_due(i) for i in claimed])
        assert await store.claim_due("reminders", now=10_000.0, limit=10, lease_s=60) == []
        assert await store.count_due("reminders") == 0
        [m1] = await store.claim_due("outbox:telegram", now=200.0, limit=10, lease_s=60)
        assert (m1.item_id, m1.due_at, m1.payload) == ("m1", 60.0, "{}")
    finally:
        await store.close()


async def test_it_sweeps_expired_documents_out_of_the_backing(
    backend: tuple[str, str, str], open_backend: Opener
) -> None:
    kind, where, prefix = backend
    store = await open_backend()
    for n in range(3):
        await store.put_doc("codes", f"c{n}", "v", ttl_s=0.05)
    await eventually(lambda: live_docs_gone(store, "codes", "c0", "c1", "c2"))

    # The next write (to any namespace in SQLite, to this one in Redis) takes them out.
    await store.put_doc("codes", "kept", "v")

    if kind == "sqlite":
        async with aiosqlite.connect(where) as db, db.execute("SELECT key FROM docs") as cur:
            assert [tuple(row) for row in await cur.fetchall()] == [("kept",)]
    else:
        client = Redis.from_url(where, decode_responses=True)
        try:
            assert await client.hkeys(f"{prefix}docs:codes") == ["kept"]
            assert not await client.exists(f"{prefix}docexp:codes")
        finally:
            await client.aclose()


async def test_it_refuses_a_sqlite_file_from_newer_code(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    async with aiosqlite.connect(path) as db:
        await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(RuntimeError, match="newer"):
        await SqliteStore.open(path)


async def test_it_keeps_every_redis_key_under_its_prefix(
    redis_server_url: str, redis_prefix: str
) -> None:
    client = Redis.from_url(redis_server_url, decode_responses=True)
    before = {key async for key in client.scan_iter()}
    store = await RedisStore.open(redis_server_url, key_prefix=redis_prefix)
    try:
        await store.save_tokens(
            "amocrm", OAuthTokens(access_token="a", refresh_token="r", expires_at=1)
        )
        await store.set_cursor("events", "1")
        await store.acquire_lease("sync", "a", 30)
        await store.reserve_slot("amocrm", 1)
        await store.mark_seen("e1", 30)
        await store.apply_change(put_task(a_task(1, user=10), None, an_event("e")))
        await store.apply_change(EntityChange(kind="deal", id=2, expected_rev=None, new=a_deal(2)))
        await store.put_due("q", "i", 1.0)
        await store.put_doc("links", "user:1", "v")
        await store.put_doc("links", "code", "v", ttl_s=30)
        await store.append("log", "n:1", "v")

        new = {key async for key in client.scan_iter()} - before
        # Keys of tests running beside this one, on a shared server, carry their own "test:".
        assert {k for k in new if not k.startswith("test:")} == set()
        assert {k.removeprefix(redis_prefix) for k in new if k.startswith(redis_prefix)} == {
            "tokens:amocrm",
            "cursor:events",
            "lease:sync",
            "slot:amocrm",
            "seen:e1",
            "task:1",
            "deal:2",
            "rev",
            "open:all",
            "open:user:10",
            "events",
            "events:keys",
            "events:seq",
            "duelayout",
            "due:q",  # a short queue's entries, out of the buckets
            "dueitems:q",
            "docs:links",
            "docexp:links",
            "list:3:log:n:1",
        }
    finally:
        await store.close()
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def redis_client(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    """A client of the test's server; the keys under the test's prefix go after the test."""
    client = Redis.from_url(redis_server_url, decode_responses=True)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_it_claims_due_entries_written_in_the_older_redis_layout(
    redis_client: Redis, redis_server_url: str, redis_prefix: str
) -> None:
    # Before the buckets, a queue was one zset of ids and one hash of "token\ndue_at\npayload".
    client = redis_client
    older_zset, older_hash = f"{redis_prefix}due:q", f"{redis_prefix}dueitems:q"
    await client.zadd(older_zset, {"a": 10.0, "b": 20.0, "held": 500.0, "c": 30.0})
    await client.hset(older_hash, mapping={
        "a": "t1\n10.0\nreminder:15", "b": "t2\n20.0\n", "held": "claim\n5.0\npay",
        "c": "t3\n30.0\nc",
    })  # fmt: skip
    store = await RedisStore.open(redis_server_url, key_prefix=redis_prefix)
    try:
        # Opening moved them into the new layout.
        assert not await client.exists(older_zset, older_hash)
        # A replica of the older version, still running, writes one the older way.
        await client.zadd(older_zset, {"late": 12.0})
        await client.hset(older_hash, "late", "t4\n12.0\nlate")
        await store.put_due("q", "new", 15.0, "n")
        await store.put_due("q", "c", 40.0, "c again")  # replaces it
        assert await store.count_due("q") == 6
        assert await store.earliest_due("q") == 10.0

        claimed = await store.claim_due("q", now=100.0, limit=10, lease_s=60)
        assert [i.item_id for i in claimed] == ["a", "late", "new", "b", "c"]
        assert [i.due_at for i in claimed] == [10.0, 12.0, 15.0, 20.0, 40.0]
        assert [i.payload for i in claimed] == ["reminder:15", "late", "n", "", "c again"]
        # A claim made before the upgrade is still its holder's to extend and complete.
        held = DueItem(queue="q", item_id="held", due_at=5.0, payload="pay", token="claim")
        assert await store.extend_claims([held], 600.0) == {"held"}
        assert await store.complete_due(held)
        assert all([await store.complete_due(i) for i in claimed])
        assert await store.claim_due("q", now=10_000.0, limit=10, lease_s=60) == []
        assert await store.count_due("q") == 0
        left = [k async for k in client.scan_iter(match=f"{redis_prefix}*")]
        assert left == [f"{redis_prefix}duelayout"]
    finally:
        await store.close()


async def test_a_large_redis_queue_stays_in_small_compactly_encoded_buckets(
    redis_client: Redis, redis_server_url: str, redis_prefix: str
) -> None:
    client = redis_client
    store = await RedisStore.open(
        redis_server_url, key_prefix=redis_prefix, long_queues=["reminders"]
    )
    try:
        for first in range(0, 20_000, 1000):
            await store.put_due_many("reminders", [
                DueEntry(item_id=f"{n}:6000123", due_at=1.8e9 + n, payload="before:15")
                for n in range(first, first + 1000)
            ])  # fmt: skip
        await store.claim_due("reminders", now=1.8e9 + 500, limit=64, lease_s=60)

        buckets = [k async for k in client.scan_iter(match=f"{redis_prefix}dueb:reminders:*")]
        sizes = [
            await (client.hlen(k) if k.rsplit(":", 1)[1][0] == "h" else client.zcard(k))
            for k in buckets
        ]
        encodings = {await client.object("encoding", k) for k in buckets}
        assert encodings == {"listpack"}
        assert max(sizes) <= 128
        assert await store.count_due("reminders") == 20_000
        # A queue not named long (the webhook inbox) stays out of the buckets.
        await store.put_due_many("inbox", [DueEntry(item_id=f"task:{n}", due_at=1.0)
                                           for n in range(100)])  # fmt: skip
        assert [k async for k in client.scan_iter(match=f"{redis_prefix}dueb:inbox:*")] == []
        assert len(await store.claim_due("inbox", now=2.0, limit=200, lease_s=60)) == 100
    finally:
        await store.close()


async def test_it_tells_the_earliest_due_moment_of_a_queue(store: Store) -> None:
    assert await store.earliest_due("q") is None
    await store.put_due_many("q", [DueEntry(item_id="a", due_at=30.0),
                                   DueEntry(item_id="b", due_at=10.0)])  # fmt: skip
    assert await store.earliest_due("q") == 10.0
    await store.claim_due("q", now=10.0, limit=1, lease_s=60)  # b: hidden until 70
    assert await store.earliest_due("q") == 30.0
    assert await store.earliest_due("other") is None
