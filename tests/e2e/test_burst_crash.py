"""A burst of reminders fired together (``ReminderService`` claims it 500 at a time and draws
the cards before its moment; at the moment the notifications are written, a statement per 500,
then the next reminders), with ``amobridge run`` killed with SIGKILL as soon as the first of
them reach the outbox, twice: every reminder is queued once, none twice, and every task has its
next reminder planned.

The kills land between the burst's writes (some notifications stored, the next reminders not
yet): the claims come back after their lease, and the once-keys written with the notifications
keep the second firing from queuing them again. No messenger is configured, so the outbox keeps
what is queued and the test counts it there (a send would only add Telegram's pace).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.core import Task
from bot.delivery import OutboxItem, outbox_queue
from bot.people import ChannelLink, Links
from bot.store import CLAIM_LEASE_S, DueEntry, EntityChange, Store, open_store
from bot.tasks.reminders import REMINDER_QUEUE, PendingReminder
from bot.tasks.schedule import Reminder, ReminderKind
from sandbox.amocrm import AmoEmulator, DemoIds
from tests.e2e.processes import ServiceProcess, service_env

PER_PERSON = 700  # three people: 2,100 reminders, five claims
FIRST_ID = 7_000_000
KILLS = 2
LEAD_S = 15 * 60


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/burst.db"
    return str(request.getfixturevalue("redis_server_url"))


async def plan_burst(store: Store, people: list[int], due_at: int) -> list[tuple[int, int]]:
    """Tasks cached and their 15-minute reminders planned, all due at ``due_at``: what the
    service holds after the tasks were synced (done here in bulk, to save the test minutes)."""
    planned: list[tuple[int, int]] = []
    entries: list[DueEntry] = []
    for n in range(PER_PERSON * len(people)):
        task = Task(
            id=FIRST_ID + n,
            text=f"Burst call {n}",
            responsible_user_id=people[n % 3],
            complete_till=due_at + LEAD_S,
            entity_type="leads",
            entity_id=n + 1,
        )
        await store.apply_change(
            EntityChange(kind="task", id=task.id, expected_rev=None, new=task)
        )
        reminder = Reminder(at=due_at, kind=ReminderKind.BEFORE, minutes_before=15)
        pending = PendingReminder(task_id=task.id, user_id=task.responsible_user_id,
                                  reminder=reminder)  # fmt: skip
        entries.append(DueEntry(item_id=f"{task.id}:{task.responsible_user_id}", due_at=due_at,
                                payload=pending.payload()))  # fmt: skip
        planned.append((task.id, task.responsible_user_id))
    await store.put_due_many(REMINDER_QUEUE, entries)
    return planned


async def queued_reminders(store: Store) -> Counter[tuple[int, int]]:
    """(task, person) of each reminder in the outbox, counted."""
    items = await store.claim_due(outbox_queue("telegram"), time.time() + 10**7, 100_000, 60)
    found: Counter[tuple[int, int]] = Counter()
    for due in items:
        item = OutboxItem.model_validate_json(due.payload)
        if item.notice == "reminder" and item.subject and item.recipient is not None:
            found[(int(item.subject.removeprefix("task:")), item.recipient)] += 1
    return found


async def test_a_burst_killed_mid_claim_queues_each_reminder_once(
    amo: AmoEmulator, demo: DemoIds, store_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    people = [demo.ivan, demo.maria, demo.oleg]
    store = await open_store(store_url, key_prefix=redis_prefix)
    try:
        for n, person in enumerate(people):
            await Links(store).link(ChannelLink(
                channel="telegram", amo_user_id=person, account_id=str(900 + n),
                chat_id=str(900 + n), linked_at=int(time.time()),
            ))  # fmt: skip
        due_at = int(time.time()) + 8  # after the process has started
        planned = await plan_burst(store, people, due_at)
        env = service_env(amo.base_url, amo.long_lived_token, store_url, redis_prefix)
        service = ServiceProcess(env, tmp_path)
        await service.start()
        outbox = outbox_queue("telegram")
        kills = 0
        try:
            # Killed the moment the outbox grows: a claim's notifications are stored, its next
            # reminders (the following write) most likely not yet.
            seen = await store.count_due(outbox)
            deadline = time.monotonic() + 60
            while kills < KILLS:
                assert time.monotonic() < deadline, "the burst never reached the outbox"
                count = await store.count_due(outbox)
                if count > seen:
                    await service.kill()
                    kills += 1
                    seen = await store.count_due(outbox)
                    await service.start()
                await asyncio.sleep(0.005)
            # The killed claims come back after their lease and are fired again: done when
            # that time is past and the outbox has stopped growing.
            last_kill = time.monotonic()
            deadline = last_kill + 90
            count, steady_since = -1, time.monotonic()
            while (
                time.monotonic() < last_kill + CLAIM_LEASE_S + 3
                or count < len(planned)
                or time.monotonic() < steady_since + 2
            ):
                assert time.monotonic() < deadline, f"the burst did not finish: {count} queued"
                now_count = await store.count_due(outbox)
                if now_count != count:
                    count, steady_since = now_count, time.monotonic()
                await asyncio.sleep(0.2)
        finally:
            with contextlib.suppress(ProcessLookupError):
                await service.stop()

        assert seen < len(planned), "a kill came after the whole burst: nothing was proven"
        queued = await queued_reminders(store)
        assert {key for key in queued if key[0] >= FIRST_ID} == set(planned)  # none lost
        assert [key for key, n in queued.items() if n > 1] == []  # none twice
        # Each task's next reminder (at its deadline) replaced the fired one.
        nexts = await store.claim_due(REMINDER_QUEUE, due_at + LEAD_S + 1, 100_000, 60)
        ours = {x.item_id: x.due_at for x in nexts if int(x.item_id.split(":")[0]) >= FIRST_ID}
        assert len(ours) == len(planned)
        assert all(at > due_at for at in ours.values())
    finally:
        await store.close()
