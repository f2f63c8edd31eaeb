"""The Python handle: the seed, reads, UI-like changes and their guards."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.amocrm import AmoEmulator, seed_demo_account
from tests.sandbox.amocrm.helpers import FakeClock


def test_it_seeds_a_deterministic_demo_account(fake_clock: FakeClock) -> None:
    first, second = AmoEmulator(clock=fake_clock), AmoEmulator(clock=fake_clock)
    ids = seed_demo_account(first)
    assert seed_demo_account(second) == ids
    assert first.api_user_id == ids.admin
    assert [first.task(t) for t in ids.tasks] == [second.task(t) for t in ids.tasks]
    now = int(fake_clock.now)
    due = {t: first.task(t)["complete_till"] - now for t in ids.tasks}
    assert due[ids.task_due_15m] == 15 * 60
    assert due[ids.task_due_60m] == 60 * 60
    assert due[ids.task_due_3h] == 3 * 3600
    assert due[ids.task_overdue] == -2 * 3600
    assert first.task(ids.task_completed)["is_completed"] is True
    owners = {first.task(t)["responsible_user_id"] for t in ids.tasks}
    assert owners == set(ids.managers)
    assert all(first.task(t)["entity_type"] == "leads" for t in ids.tasks)
    lead_owners = {first.lead(lead)["responsible_user_id"] for lead in ids.leads}
    assert lead_owners == set(ids.managers)
    assert len({first.lead(lead)["status_id"] for lead in ids.leads}) >= 4
    assert all(first.lead(lead)["price"] > 0 for lead in ids.leads)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ids.admin = 1  # type: ignore[misc]


def test_it_reads_and_changes_like_the_ui(fake_clock: FakeClock) -> None:
    emu = AmoEmulator(clock=fake_clock)
    ids = seed_demo_account(emu)
    fake_clock.now += 60
    lead = ids.leads[0]
    emu.move_lead(lead, 143, by_user=ids.ivan)
    moved = emu.lead(lead)
    assert moved["status_id"] == 143
    assert moved["closed_at"] == int(fake_clock.now)
    assert moved["updated_by"] == ids.ivan
    assert moved["updated_at"] == int(fake_clock.now)
    emu.set_lead_responsible(lead, ids.oleg)
    assert emu.lead(lead)["group_id"] == ids.group_b
    emu.update_task(ids.task_due_15m, responsible_user_id=ids.oleg)
    task = emu.task(ids.task_due_15m)
    assert task["group_id"] == ids.group_b
    assert task["updated_by"] == ids.admin
    before = len(emu.events())
    emu.update_task(ids.task_due_15m, responsible_user_id=ids.oleg)  # no change, no event
    emu.move_lead(lead, 143)
    assert len(emu.events()) == before
    emu.delete_lead(lead)
    assert emu.lead(lead)["is_deleted"] is True
    emu.delete_task(ids.task_due_3h)
    with pytest.raises(KeyError):
        emu.task(ids.task_due_3h)


def test_it_refuses_unknown_ids() -> None:
    emu = AmoEmulator()
    ids = seed_demo_account(emu)
    with pytest.raises(KeyError):
        emu.lead(1)
    with pytest.raises(KeyError):
        emu.move_lead(ids.leads[0], 999)
    with pytest.raises(KeyError):
        emu.add_task("x", responsible_user_id=1, complete_till=0)
    with pytest.raises(KeyError):
        emu.complete_task(1)
    with pytest.raises(ValueError, match="task type"):
        emu.add_task("x", responsible_user_id=ids.ivan, complete_till=0, task_type_id=9)
    with pytest.raises(KeyError):
        emu.issue_auth_code(1)


def test_it_adds_pipelines_with_system_statuses() -> None:
    emu = AmoEmulator()
    seed_demo_account(emu)
    pipeline, statuses = emu.add_pipeline("Partners", ["New", "Signed"])
    assert len(statuses) == 2
    lead = emu.add_lead(
        "Partner deal", status_id=142, pipeline_id=pipeline, responsible_user_id=emu.api_user_id
    )
    assert emu.lead(lead)["pipeline_id"] == pipeline


def test_it_needs_serving_for_a_base_url_and_an_admin_for_tokens() -> None:
    emu = AmoEmulator()
    with pytest.raises(RuntimeError, match="serving"):
        _ = emu.base_url
    with pytest.raises(RuntimeError, match="admin"):
        _ = emu.long_lived_token
    seed_demo_account(emu)
    assert emu.long_lived_token == emu.long_lived_token
    assert emu.long_lived_token.count(".") == 2


async def test_it_serves_on_the_given_port_and_stops() -> None:
    emu = AmoEmulator()
    seed_demo_account(emu)
    async with emu.serve(port=0) as base_url:
        assert emu.base_url == base_url
        assert base_url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = emu.base_url
