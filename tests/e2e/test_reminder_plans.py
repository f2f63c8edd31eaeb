"""Planning many reminders in one call (``ReminderService.reschedule_many``: a person's tasks
after ``/remind`` or ``/tz``, a bulk load), on both stores: one entry per open task of a linked
person, at its first reminder; none for a completed task (its old entry goes) or for a person
with no messenger."""

from __future__ import annotations

import pytest

from bot.app.wiring import Service
from bot.core import Task
from sandbox.amocrm import DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, link

pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)


async def test_reschedule_many_plans_each_open_task_of_a_linked_person(
    service: Service, tg: TelegramEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    assert service.services is not None
    await link(service, tg, demo.ivan, "Ivan")
    due = int(clock.now()) + 3 * 3600
    await service.store.put_due("reminders", f"90002:{demo.ivan}", due - 3600, "planned before")

    await service.services.reminders.reschedule_many([
        Task(id=90001, responsible_user_id=demo.ivan, complete_till=due),
        Task(id=90002, responsible_user_id=demo.ivan, complete_till=due, is_completed=True),
        Task(id=90003, responsible_user_id=demo.oleg, complete_till=due),  # not linked
    ])  # fmt: skip

    claimed = await service.store.claim_due("reminders", due + 1, 1000, 60)
    ours = {(x.item_id, x.due_at) for x in claimed if x.item_id.startswith("9000")}
    assert ours == {(f"90001:{demo.ivan}", due - 3600)}  # the default 60-minute reminder
