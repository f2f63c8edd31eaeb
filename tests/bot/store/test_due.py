"""Claims kept alive while the work goes on (``ClaimKeeper``, ``work_due``) or until the items'
moment (``ClaimedAhead``), on both backends.

The leases here are a fraction of a second of real time, so that "comes back after the lease" and
"never comes back while held" are both seen within the test.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.core import FailureNote
from bot.store import (
    CLAIM_LEASE_S,
    ClaimedAhead,
    ClaimKeeper,
    DueEntry,
    DueItem,
    Failed,
    Store,
    keep_claims,
    work_due,
    work_due_together,
)
from bot.store.due import RENEWALS_PER_LEASE
from bot.store.sqlite import SqliteStore

LEASE_S = 0.4


async def claim_within(store: Store, deadline_s: float) -> list[DueItem]:
    """What another worker gets by claiming ``q`` again and again for ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if got := await store.claim_due("q", time.time(), 10, LEASE_S):
            return got
        await asyncio.sleep(0.02)
    return []


async def test_a_kept_claim_is_never_taken_while_its_holder_works(store: Store) -> None:
    await store.put_due("q", "a", 1.0, "p")
    claimed = await store.claim_due("q", time.time(), 10, LEASE_S)

    async with keep_claims(store, claimed, LEASE_S, time.time) as keeper:
        # Six leases long: without the renewals the item would be claimed again after one.
        assert await claim_within(store, 6 * LEASE_S) == []
        assert keeper.holds(claimed[0])
        assert await store.complete_due(claimed[0])


async def test_a_dead_holders_claim_comes_back_after_one_lease(store: Store) -> None:
    await store.put_due("q", "a", 1.0, "p")
    claimed = await store.claim_due("q", time.time(), 10, LEASE_S)
    async with keep_claims(store, claimed, LEASE_S, time.time):
        await asyncio.sleep(LEASE_S)
    # The holder "died" here (the keeper stopped): another worker gets it within about a lease.
    started = time.monotonic()
    [again] = await claim_within(store, 5 * LEASE_S)
    assert again.item_id == "a"
    assert time.monotonic() - started <= 2 * LEASE_S


async def test_a_holder_learns_that_its_claim_was_taken_over(store: Store) -> None:
    await store.put_due("q", "a", 1.0, "p")
    claimed = await store.claim_due("q", time.time(), 10, LEASE_S)
    keeper = ClaimKeeper(store, claimed, LEASE_S, time.time)
    # The holder stalls past its lease before its keeper runs; another worker takes the item.
    [taken] = await claim_within(store, 5 * LEASE_S)
    keeper.start()
    try:
        deadline = time.monotonic() + 5 * LEASE_S
        while keeper.holds(claimed[0]):
            assert time.monotonic() < deadline, "the keeper never noticed the takeover"
            await asyncio.sleep(0.02)
    finally:
        keeper.stop()
    # The new holder's claim is untouched by the old keeper.
    assert await store.complete_due(taken)


async def test_work_due_puts_a_failed_item_off_for_its_retry_delay(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await store.put_due("q", "bad", 10.0, "p")
    await store.put_due("q", "good", 10.0, "p")

    async def work(item: DueItem) -> None:
        if item.item_id == "bad":
            raise RuntimeError("boom")
        await store.complete_due(item)

    clock = 50.0
    with caplog.at_level(logging.ERROR):
        claimed = await work_due(
            store, "q", clock, 10, 300.0, work,
            clock=lambda: clock, failures=FailureNote(logging.getLogger("t"), "the work"),
        )  # fmt: skip

    assert claimed == 2
    assert "the work failed on bad" in caplog.text
    assert await store.count_due("q") == 1
    # Not back after the claim's short lease, only after the retry delay.
    assert await store.claim_due("q", 50.0 + CLAIM_LEASE_S + 1, 10, 5) == []
    [retried] = await store.claim_due("q", 350.0, 10, 5)
    assert retried.item_id == "bad"


async def test_a_store_outage_while_claims_are_kept_is_said_once_and_its_end_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Unreachable(SqliteStore):
        down = False

        async def extend_claims(self, items: Sequence[DueItem], until: float) -> frozenset[str]:
            if self.down:
                raise ConnectionError("store unreachable")
            return await super().extend_claims(items, until)

    store = await Unreachable.open(str(tmp_path / "down.db"))
    try:
        await store.put_due("q", "a", 1.0, "p")
        claimed = await store.claim_due("q", time.time(), 10, LEASE_S)
        caplog.set_level(logging.INFO, logger="bot.store.due")
        async with keep_claims(store, claimed, LEASE_S, time.time):
            store.down = True
            await asyncio.sleep(8 * LEASE_S / RENEWALS_PER_LEASE)  # eight renewals fail
            store.down = False
            await asyncio.sleep(3 * LEASE_S / RENEWALS_PER_LEASE)
    finally:
        await store.close()
    said = [r.getMessage() for r in caplog.records if r.name == "bot.store.due"]
    assert len([m for m in said if "failed" in m]) == 1
    assert len([m for m in said if "works again" in m]) == 1


async def test_work_due_together_gets_the_whole_claim_and_retries_only_what_failed(
    store: Store,
) -> None:
    await store.put_due_many("q", [DueEntry(item_id=str(n), due_at=1.0) for n in range(5)])
    seen: list[list[str]] = []

    async def work(items: Sequence[DueItem]) -> Failed:
        seen.append(sorted(x.item_id for x in items))
        for item in items:
            if item.item_id != "3":
                assert await store.complete_due(item)
        return [(x, ValueError("bad data")) for x in items if x.item_id == "3"]

    failures = FailureNote(logging.getLogger("t"), "the work")
    claimed = await work_due_together(
        store, "q", time.time(), 10, 60.0, work, clock=time.time, failures=failures
    )

    assert claimed == 5
    assert seen == [["0", "1", "2", "3", "4"]]
    # The failed one waits for its retry, not for the lease: not claimable now, but later.
    assert await store.count_due("q") == 1
    assert await store.claim_due("q", time.time() + 30, 10, 5) == []
    assert [x.item_id for x in await store.claim_due("q", time.time() + 61, 10, 5)] == ["3"]


async def test_work_due_together_retries_all_when_the_work_fails(store: Store) -> None:
    await store.put_due_many("q", [DueEntry(item_id=str(n), due_at=1.0) for n in range(3)])

    async def work(items: Sequence[DueItem]) -> Failed:
        raise ConnectionError("store down mid-batch")

    failures = FailureNote(logging.getLogger("t"), "the work")
    assert (
        await work_due_together(
            store, "q", time.time(), 10, 60.0, work, clock=time.time, failures=failures
        )
        == 3
    )
    assert await store.claim_due("q", time.time() + 30, 10, 5) == []
    again = await store.claim_due("q", time.time() + 61, 10, 5)
    assert sorted(x.item_id for x in again) == ["0", "1", "2"]


async def test_claimed_ahead_draws_an_item_before_its_moment_and_gives_it_at_the_moment(
    store: Store,
) -> None:
    ahead = ClaimedAhead[str](store, "q", ahead_s=1.0, most=10, clock=time.time)
    due_at = time.time() + 1.4
    await store.put_due("q", "soon", due_at, "p")
    await store.put_due("q", "later", time.time() + 60, "p")

    started = time.monotonic()
    await ahead.wait(30.0)  # until "soon" is within a second of its moment
    assert 0.3 <= time.monotonic() - started < 1.2
    [item] = await ahead.claim(time.time(), 10)
    assert (item.item_id, item.due_at) == ("soon", due_at)
    ahead.hold([(item, "drawn")])
    # Held: nobody else gets it, and it is not given before its moment.
    assert await store.claim_due("q", due_at + 5, 10, 5) == []
    assert ahead.take_due(time.time()) == []

    await ahead.wait(30.0)
    assert time.time() >= due_at - 0.01
    [taken] = await ahead.still_ours(ahead.take_due(time.time()))
    assert (taken.item.item_id, taken.prepared) == ("soon", "drawn")
    assert await store.complete_due(taken.item)  # still the taker's claim
    assert await store.count_due("q") == 1


async def test_claimed_ahead_drops_what_was_drawn_for_an_item_put_again_meanwhile(
    store: Store,
) -> None:
    ahead = ClaimedAhead[str](store, "q", ahead_s=5.0, most=10, clock=time.time)
    due_at = time.time() + 0.2
    for item_id in ("changed", "cancelled", "kept"):
        await store.put_due("q", item_id, due_at, "old")
    ahead.hold([(item, f"drawn {item.item_id}") for item in await ahead.claim(time.time(), 10)])
    # The tasks changed while their reminders were held: one put again (its moment as it was),
    # one cancelled.
    await store.put_due("q", "changed", due_at, "new")
    await store.cancel_due("q", "cancelled")

    await asyncio.sleep(due_at - time.time())
    due = ahead.take_due(time.time())
    assert [d.prepared for d in await ahead.still_ours(due)] == ["drawn kept"]
    [again] = await store.claim_due("q", time.time(), 10, 5)
    assert (again.item_id, again.payload) == ("changed", "new")


async def test_claimed_ahead_holds_at_most_its_room_and_hands_back_on_a_stop(
    store: Store,
) -> None:
    ahead = ClaimedAhead[str](store, "q", ahead_s=60.0, most=3, clock=time.time)
    await store.put_due_many("q", [DueEntry(item_id=str(n), due_at=time.time() + 30 + n)
                                   for n in range(5)])  # fmt: skip
    claimed = await ahead.claim(time.time(), 10)
    ahead.hold([(item, "") for item in claimed])
    assert (len(claimed), ahead.room, await ahead.claim(time.time(), 10)) == (3, 0, [])

    await ahead.hand_back()
    # Given back due at their moments: not to be worked before them, as they were put.
    assert await store.claim_due("q", time.time(), 10, 5) == []
    back = await store.claim_due("q", time.time() + 35, 10, 5)
    assert sorted(i.item_id for i in back) == ["0", "1", "2", "3", "4"]
    assert ahead.room == 3
