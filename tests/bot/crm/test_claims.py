"""Which change a claim credits to its presser, and which it leaves alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.domain import EntityHint, HintSource, Task
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
