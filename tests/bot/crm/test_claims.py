"""Which change a claim credits to its presser, and which it leaves alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.domain import EntityHint, HintSource, NewTask, Task
from bot.crm.claims import Claim, Claims
from bot.store import Store, open_store

NOW = 1_800_000_000
OPEN = Task(id=7, text="Call", responsible_user_id=1, complete_till=NOW + 3600, updated_at=NOW)
DONE = OPEN.model_copy(update={"is_completed": True, "updated_at": NOW + 5})
IVAN_COMPLETES = Claim(actor_id=2, via="telegram", is_completed=True)
WEBHOOK = EntityHint(kind="task", id=7, source=HintSource.WEBHOOK, actor_id=99)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path}/store.db")
    yield opened
    await opened.close()


def test_a_claim_is_met_only_by_every_change_it_makes() -> None:
    assert IVAN_COMPLETES.met_by(DONE)
    assert not IVAN_COMPLETES.met_by(OPEN)
    assert not IVAN_COMPLETES.met_by(None)
    snooze = Claim(actor_id=2, via="slack", complete_till=NOW + 7200)
    assert not snooze.met_by(DONE)
    assert snooze.met_by(OPEN.model_copy(update={"complete_till": NOW + 7200}))


async def test_the_change_the_claim_made_is_credited_whatever_path_brings_it(store: Store) -> None:
    claims = Claims(store)
    await claims.put("task", 7, IVAN_COMPLETES)
    credited = await claims.attribute("task", 7, OPEN, DONE, WEBHOOK)
    assert credited is not None
    assert (credited.actor_id, credited.via) == (2, "telegram")
    by_sync = await claims.attribute("task", 7, OPEN, DONE, None)
    assert by_sync is not None
    assert (by_sync.actor_id, by_sync.via) == (2, "telegram")


async def test_other_changes_and_dropped_claims_are_left_alone(store: Store) -> None:
    claims = Claims(store)
    await claims.put("task", 7, IVAN_COMPLETES)
    moved = DONE.model_copy(update={"complete_till": NOW, "updated_at": NOW + 9})
    # Already completed before: a later change of the deadline is not the press.
    assert await claims.attribute("task", 7, DONE, moved, WEBHOOK) == WEBHOOK
    await claims.drop("task", 7)
    assert await claims.attribute("task", 7, OPEN, DONE, WEBHOOK) == WEBHOOK


FOLLOW_UP = NewTask(text="Follow up", complete_till=NOW + 86400, responsible_user_id=2,
                    entity_type="leads", entity_id=5)  # fmt: skip
CREATED = Task(id=8, text="Follow up", responsible_user_id=2, created_by=99, entity_type="leads",
               entity_id=5, complete_till=NOW + 86400, updated_at=NOW)  # fmt: skip
ADDED = EntityHint(kind="task", id=8, source=HintSource.WEBHOOK, action="add", actor_id=99)


async def test_a_task_we_created_for_ivan_is_his_when_amocrm_reports_it(store: Store) -> None:
    claims = Claims(store)
    await claims.put_new_task(FOLLOW_UP, actor_id=2, via="telegram")
    # amoCRM names the token's user (99) as its author; the first sight of it names Ivan.
    credited = await claims.attribute("task", 8, None, CREATED, ADDED)
    assert credited is not None
    assert (credited.actor_id, credited.via, credited.action) == (2, "telegram", "add")
    assert await claims.author(8) == 2  # and its author from then on, not amoCRM's 99
    # Another task on the deal (someone else's, or another deadline) is left alone.
    other = CREATED.model_copy(update={"id": 9, "complete_till": NOW + 90000})
    assert await claims.attribute("task", 9, None, other, ADDED) == ADDED
    assert await claims.author(9) is None
    # A later change of the task is not its creation.
    moved = CREATED.model_copy(update={"text": "Call", "updated_at": NOW + 5})
    assert await claims.attribute("task", 8, CREATED, moved, ADDED) == ADDED


async def test_a_claim_stored_by_one_replica_credits_the_change_on_another(
    redis_server_url: str, redis_prefix: str
) -> None:
    # Two replicas: two stores on one Redis. The press is on the first, the webhook on the other.
    first = await open_store(redis_server_url, key_prefix=redis_prefix)
    second = await open_store(redis_server_url, key_prefix=redis_prefix)
    try:
        await Claims(first).put("task", 7, IVAN_COMPLETES)
        await Claims(first).put_new_task(FOLLOW_UP, actor_id=2, via="slack")
        completed = await Claims(second).attribute("task", 7, OPEN, DONE, WEBHOOK)
        created = await Claims(second).attribute("task", 8, None, CREATED, ADDED)
        assert completed is not None
        assert completed.actor_id == 2
        assert created is not None
        assert (created.actor_id, created.via) == (2, "slack")
    finally:
        await first.close()
        await second.close()
