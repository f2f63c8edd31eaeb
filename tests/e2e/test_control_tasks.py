"""Escalation leaves a trace in amoCRM when the account asks for it: one control task for the
supervisor on the deal, closed by amobridge when the original task is completed; none when the
setting is off. The real service, the amoCRM and Telegram emulators."""

from __future__ import annotations

from bot.alerts.service import ESCALATION_CURSOR
from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import (
    FakeClock,
    all_sent,
    answered,
    bot_messages,
    eventually,
    link,
    says,
    settled,
)


def control_tasks(amo: AmoEmulator, task_id: int | None = None) -> list[dict[str, object]]:
    """The control tasks amobridge made (about ``task_id``, if given)."""
    marker = "(amobridge #" if task_id is None else f"(amobridge #{task_id}/"
    return [t for t in amo.tasks() if marker in str(t["text"])]


async def escalate_one(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock,
    *, control: bool,
) -> tuple[int, int]:  # fmt: skip
    """Ivan leaves a task on a deal overdue for 90 minutes until Sergey hears of it; its id, and
    Sergey's chat."""
    anna = await link(service, tg, demo.admin, "Anna")
    sergey = await link(service, tg, demo.supervisor, "Sergey")  # supervises Sales A
    await link(service, tg, demo.ivan, "Ivan")
    await answered(tg, anna, "/escalate 90m", "1 h 30 min after the deadline")
    if control:
        await answered(tg, anna, "/config control_tasks on", "control task on the deal")
    task_id = amo.add_task("Send Globex the signed contract", responsible_user_id=demo.ivan,
                           complete_till=int(clock.now()) + 120, entity_id=demo.leads[1],
                           by_user=demo.ivan)  # fmt: skip
    await settled(service, amo)
    clock.advance(3 * 60)
    await says(tg, sergey, "Overdue task of Ivan Petrov")
    clock.advance(90 * 60)
    await says(tg, sergey, "⏫ No reaction: Ivan Petrov has not acted on an overdue")
    scanned_at = clock.now()

    async def scan_done() -> bool:  # the scan that escalated it is over, its writes made
        cursor = await service.store.get_cursor(ESCALATION_CURSOR)
        return cursor is not None and float(cursor) >= scanned_at - 1

    await eventually(scan_done, what="the escalation scan to finish")
    return task_id, sergey


async def test_an_escalation_creates_one_control_task_closed_with_the_original(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    task_id, sergey = await escalate_one(service, tg, amo, demo, clock, control=True)

    async def created() -> bool:
        return len(control_tasks(amo, task_id)) == 1

    await eventually(created, what="the control task in amoCRM")
    [control] = control_tasks(amo, task_id)
    assert control["responsible_user_id"] == demo.supervisor
    assert (control["entity_type"], control["entity_id"]) == ("leads", demo.leads[1])
    # The account speaks Russian (its amoCRM users do): "Check why Ivan Petrov has not …".
    assert str(control["text"]).startswith("Проверить, почему Ivan Petrov не выполнил(а)")
    assert "Send Globex the signed contract" in str(control["text"])
    assert control["is_completed"] is False

    # Further scans (every replica's, any number) leave it at one; Ivan's seeded overdue task
    # gets its own meanwhile.
    clock.advance(30 * 60)
    assert service.services is not None
    await service.services.alerts.scan_tasks()
    await settled(service, amo)
    assert len(control_tasks(amo, task_id)) == 1
    # amobridge's own write: Sergey does not hear of it as a new task "from Anna Admin" (the
    # token's user, whom amoCRM names as its author); the escalation told him already.
    await all_sent(service, amo)
    assert bot_messages(tg, sergey, "Проверить, почему") == []

    amo.complete_task(task_id, by_user=demo.ivan)

    async def closed() -> bool:
        return amo.task(int(str(control["id"])))["is_completed"] is True

    await eventually(closed, what="the control task to be closed")
    assert len(control_tasks(amo, task_id)) == 1


async def test_without_the_setting_an_escalation_leaves_no_task(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    await escalate_one(service, tg, amo, demo, clock, control=False)
    await settled(service, amo)
    assert control_tasks(amo) == []
