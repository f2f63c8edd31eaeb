"""Working hours end to end: ``/hours`` moves an overdue repeat to the person's next working
start (and nothing is sent or held before it); an all-day task (amoCRM's 23:59) is reminded at
the start of its working day, not late in the evening. The real service and aiogram client, the
Telegram and amoCRM emulators, one FakeClock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app.wiring import Service
from bot.people.holding import held_queue
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import (
    FakeClock,
    about,
    answered,
    clock_at,
    link,
    says,
    task_given,
    travel_to,
)

pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def clock() -> FakeClock:
    """Tuesday 24 November 2026, 17:00 in the account's timezone."""
    return clock_at(datetime(2026, 11, 24, 17, 0, tzinfo=MOSCOW))


async def nothing_for(service: Service, amo_user_id: int) -> None:
    """Give the reminder loop a round at the current time: nothing fired, nothing held."""
    assert service.services is not None
    await service.services.reminders.fire_due()
    assert await service.store.count_due(held_queue(amo_user_id)) == 0


async def test_own_hours_move_an_overdue_repeat_to_their_start(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # no tasks of her own yet
    await answered(tg, anna, "/hours", "The company's working hours: 09:00-19:00 mon-fri")
    await answered(tg, anna, "/hours 19-10", "The working day must end after it starts (not "
                   "over midnight).\nFor example: /hours 10:00-19:00 mon-fri")  # fmt: skip
    await answered(tg, anna, "/hours 12:00-18:00 пн-пт",
                   "Your working hours: 12:00-18:00 mon-fri (Europe/Moscow)")  # fmt: skip

    due = int(datetime(2026, 11, 24, 17, 30, tzinfo=MOSCOW).timestamp())
    await task_given(service, amo, "Send the offer", to=demo.admin, due=due, by=demo.maria)
    travel_to(clock, datetime(2026, 11, 24, 17, 30, 5, tzinfo=MOSCOW))
    await says(tg, anna, "❗ Overdue by 0 min")  # the 17:15 reminder, drawn as it is now
    # The repeat (4 h later: 21:30) would come at 09:00 with the company's hours; hers start
    # at 12:00, and nothing comes or waits before then.
    travel_to(clock, datetime(2026, 11, 25, 9, 0, 5, tzinfo=MOSCOW))
    await nothing_for(service, demo.admin)
    travel_to(clock, datetime(2026, 11, 25, 11, 59, 0, tzinfo=MOSCOW))
    await nothing_for(service, demo.admin)
    assert len(about(tg, anna, "❗ Overdue")) == 1  # only the one at 17:30
    noon = datetime(2026, 11, 25, 12, 0, 5, tzinfo=MOSCOW)
    travel_to(clock, noon)
    repeat = await says(tg, anna, "❗ Overdue by 18 h")
    assert "Send the offer" in repeat.text
    assert repeat.date >= noon.timestamp() - 5


async def test_an_all_day_task_is_reminded_at_nine_not_in_the_evening(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    all_day = int(datetime(2026, 11, 25, 23, 59, tzinfo=MOSCOW).timestamp())  # Wednesday
    await task_given(service, amo, "Renew the licence", to=demo.admin, due=all_day,
                     by=demo.maria)  # fmt: skip
    await says(tg, anna, "📌 New task from Maria Ivanova")
    # Not an hour before 23:59 on the evening before, nor at midnight.
    for moment in ((11, 24, 22, 59), (11, 25, 0, 0), (11, 25, 8, 59)):
        travel_to(clock, datetime(2026, *moment, tzinfo=MOSCOW))
        await nothing_for(service, demo.admin)
    assert [m.text.splitlines()[0] for m in about(tg, anna, "Renew the licence")] == [
        "📌 New task from Maria Ivanova"
    ]
    nine = datetime(2026, 11, 25, 9, 0, 5, tzinfo=MOSCOW)
    travel_to(clock, nine)
    reminder = await says(tg, anna, "📅 Due today (all day)")
    assert "Renew the licence" in reminder.text
    assert reminder.date >= nine.timestamp() - 5
