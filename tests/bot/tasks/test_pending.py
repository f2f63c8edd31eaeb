"""A pending reminder as its due entry keeps it: the short form (the kind and lead only; the
task, person and moment are the entry's own), and the JSON that earlier versions put."""

from __future__ import annotations

import pytest

from bot.store import DueItem
from bot.tasks.reminders import PendingReminder
from bot.tasks.schedule import Reminder, ReminderKind

AT = 1_796_000_000


@pytest.mark.parametrize(
    "reminder",
    [
        Reminder(at=AT, kind=ReminderKind.BEFORE, minutes_before=15),
        Reminder(at=AT, kind=ReminderKind.DUE),
        Reminder(at=AT, kind=ReminderKind.OVERDUE),
    ],
)
def test_it_reads_back_what_it_put_from_a_few_bytes(reminder: Reminder) -> None:
    pending = PendingReminder(task_id=31, user_id=7, reminder=reminder)
    payload = pending.payload()
    item = DueItem(queue="reminders", item_id="31:7", due_at=float(AT), payload=payload, token="t")

    assert PendingReminder.of(item) == pending
    assert len(payload) <= 10


def test_it_still_reads_an_entry_put_as_json_before() -> None:
    pending = PendingReminder(task_id=31, user_id=7, reminder=Reminder(at=AT, kind="due"))
    item = DueItem(queue="reminders", item_id="31:7", due_at=float(AT),
                   payload=pending.model_dump_json(), token="t")  # fmt: skip

    assert PendingReminder.of(item) == pending
