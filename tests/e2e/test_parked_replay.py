"""A parked press whose replayed write amoCRM applies while the process that sent it goes away
(issue 12): the next process finds the press still parked, sees the task changed, and knows the
write for its own. The presser hears "written" once (never "already completed"), the task is
written once, and the deal gets its note once.

The first process is stopped while amoCRM holds the write's answer: its replay is cancelled at
that await, which leaves the store as a crash there would (test_parked_kill kills a real process
at the other point where a parked press can be caught)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.app.settings import Settings
from bot.store import CLAIM_LEASE_S
from bot.tasks.parked import PARK_QUEUE, PARK_RETRY_S
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.conftest import serving
from tests.e2e.helpers import FakeClock, bot_messages, buttons, eventually, link, says, synced

TEXT = "Call Hooli about the renewal"
BACK = f"amoCRM is back: your change to the task “{TEXT}” is written there."
HOLD_S = 2.0  # amoCRM's hold on the write's answer: well inside the process's wait for it


@pytest.fixture
def settings(tg: TelegramEmulator, make_settings: Callable[..., Settings]) -> Settings:
    """Telegram only, and a wait for amoCRM's answers well past its hold."""
    return make_settings(telegram=tg, request_timeout_s=4 * HOLD_S)


async def test_a_replayed_write_applied_as_its_process_goes_away_is_known_for_its_own(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, clock: FakeClock, settings: Settings
) -> None:
    path = "/api/v4/tasks/"
    async with serving(settings, clock) as first:
        await synced(first)
        ivan = await link(first, tg, demo.ivan, "Ivan")
        task_id = amo.add_task(TEXT, responsible_user_id=demo.ivan,
                               complete_till=int(clock.now()) + 3600, entity_id=demo.leads[1],
                               by_user=demo.supervisor)  # fmt: skip
        card = await says(tg, ivan, "New task from")
        amo.faults.add("503", count=1000, path_prefix=f"{path}{task_id}")
        await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
        await says(tg, ivan, "Your change is saved")

        amo.faults.clear()  # amoCRM is back, but holds its answer to the write
        amo.faults.add("slow", delay_s=HOLD_S, path_prefix=f"{path}{task_id}", method="PATCH")
        clock.advance(PARK_RETRY_S[0] + 1)

        async def writing() -> bool:
            return amo.faults.pending == 0

        await eventually(writing, what="the replay to send its write")
    # The first process is gone; amoCRM applies the write it never heard back about.

    async def applied() -> bool:
        return amo.task(task_id)["is_completed"] is True

    await eventually(applied, what="amoCRM to apply the write")
    async with serving(settings, clock) as second:
        clock.advance(CLAIM_LEASE_S + 1)  # the dead replay's claim runs out
        await says(tg, ivan, BACK)

        async def replayed() -> bool:
            return await second.store.count_due(PARK_QUEUE) == 0

        await eventually(replayed, what="the parked press to leave the store")

    assert len(bot_messages(tg, ivan, BACK)) == 1
    assert not bot_messages(tg, ivan, "was not written")
    writes = [r for r in amo.request_log if r.method == "PATCH" and r.path == f"{path}{task_id}"]
    assert len(writes) == 1
    notes = [
        n for n in amo.notes(demo.leads[1]) if "Telegram by Ivan Petrov" in n["params"]["text"]
    ]
    assert len(notes) == 1
