"""What waits and comes later, end to end: quiet hours and mute hold alerts and reminders, then
send them as the tasks are then; a person's own digest (``/digest daily 09:00``, ``/digest 30m``)
keeps alerts for one message, the morning one with the day's tasks, and never holds a deadline
reminder. The real service and aiogram client, the Telegram and amoCRM emulators, one
FakeClock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.pending import NS as DIGEST_NS
from bot.app.wiring import Service
from bot.delivery.outbox import outbox_queue
from bot.people.holding import held_queue
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import (
    FakeClock,
    about,
    answered,
    clock_at,
    eventually,
    link,
    says,
    settled,
    shows,
    travel_to,
)

MOSCOW = ZoneInfo("Europe/Moscow")
TUESDAY_21_50 = datetime(2026, 11, 24, 21, 50, tzinfo=MOSCOW)
pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)


@pytest.fixture
def clock() -> FakeClock:
    return clock_at(TUESDAY_21_50)


@pytest.fixture
def messengers() -> tuple[str, ...]:
    return ("telegram",)


async def waiting(service: Service, amo_user_id: int, count: int) -> None:
    """``count`` messages are kept for the person, and nothing is on its way to Telegram."""

    async def kept() -> bool:
        return (
            await service.store.count_due(held_queue(amo_user_id)) == count
            and await service.store.count_due(outbox_queue("telegram")) == 0
        )

    await eventually(kept, what=f"{count} messages to wait")


async def test_quiet_hours_keep_the_night_for_the_morning_as_the_tasks_are_then(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # no tasks of her own yet
    await answered(tg, anna, "/quiet 22:00-08:00", "Quiet hours: 22:00–08:00 (Europe/Moscow).")
    await tg.send_command(anna, "quiet", "8 to 22")
    await says(tg, anna, "I need the hours as from-to, in 24-hour time.\nFor example: /quiet")

    travel_to(clock, datetime(2026, 11, 24, 22, 10, tzinfo=MOSCOW))
    night = int(clock.now())
    amo.add_task("Prepare the contract", responsible_user_id=demo.admin,
                 complete_till=night + 50 * 60, by_user=demo.maria)  # fmt: skip
    done = amo.add_task("Call Initech", responsible_user_id=demo.admin,
                        complete_till=night + 20 * 60, by_user=demo.maria)  # fmt: skip
    await waiting(service, demo.admin, 2)  # the two "new task" alerts
    travel_to(clock, datetime(2026, 11, 24, 22, 16, tzinfo=MOSCOW))  # Initech in 15 min
    await waiting(service, demo.admin, 3)
    amo.complete_task(done, by_user=demo.admin)
    await settled(service, amo)
    travel_to(clock, datetime(2026, 11, 24, 22, 46, tzinfo=MOSCOW))  # the contract in 15 min
    await waiting(service, demo.admin, 4)
    travel_to(clock, datetime(2026, 11, 24, 23, 1, tzinfo=MOSCOW))  # and due
    await waiting(service, demo.admin, 5)
    assert about(tg, anna, "Prepare the contract") == []
    assert about(tg, anna, "Call Initech") == []

    morning = datetime(2026, 11, 25, 8, 0, tzinfo=MOSCOW)
    travel_to(clock, morning)
    await says(tg, anna, "Prepare the contract")
    await waiting(service, demo.admin, 0)
    # The night's two reminders of the contract come as one, drawn as the task is at 08:00.
    cards = about(tg, anna, "Prepare the contract")
    assert [c.text.splitlines()[0] for c in cards] == [
        "📌 New task from Maria Ivanova", "❗ Overdue by 9 h",
    ]  # fmt: skip
    assert all(c.date >= morning.timestamp() for c in cards)
    assert all("Due: 24.11 23:00" in c.text for c in cards)  # not last night's "today 23:00"
    # The task completed in the night: its alert says what happened then, and no reminder.
    assert [c.text.splitlines()[0] for c in about(tg, anna, "Call Initech")] == [
        "📌 New task from Maria Ivanova"
    ]


async def test_a_mute_holds_alerts_and_lifting_it_sends_them_at_once(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # no tasks of her own yet
    await answered(tg, anna, "/mute 2h", "Muted until today 23:50")
    # Muted, then quiet: what waits, waits for the later of the two.
    await answered(tg, anna, "/quiet 23:00-08:00",
                   "Alerts and reminders wait until tomorrow 08:00.")  # fmt: skip
    await answered(tg, anna, "/quiet off", "Alerts and reminders wait until today 23:50.")
    await answered(tg, anna, "/mute ages", "For example: /mute 2h")

    amo.add_task("Send the offer", responsible_user_id=demo.admin,
                 complete_till=int(clock.now()) + 3 * 3600, by_user=demo.maria)  # fmt: skip
    await waiting(service, demo.admin, 1)
    assert about(tg, anna, "Send the offer") == []

    await answered(tg, anna, "/mute off", "Unmuted.\nSending what waited for you: 1.")
    alert = await says(tg, anna, "Send the offer")
    assert alert.text.startswith("📌 New task from Maria Ivanova")
    await waiting(service, demo.admin, 0)


# --- /digest ------------------------------------------------------------------------------


async def kept(service: Service, amo_user_id: int, count: int) -> None:
    """``count`` alerts wait in the person's digest."""

    async def waiting() -> bool:
        raw = await service.store.get_doc(DIGEST_NS, f"user:{amo_user_id}")
        return raw is not None and raw.count('"text"') == count

    await eventually(waiting, what=f"{count} alerts kept for the digest")


async def test_a_daily_digest_brings_the_days_tasks_and_the_nights_alerts_at_nine(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # no tasks of her own yet
    await tg.send_command(anna, "digest", "weekly")
    await says(tg, anna, "I did not get how often to send the digest.\nFor example: /digest")
    await answered(tg, anna, "/digest 5m", "every 15 minutes at most")
    await answered(tg, anna, "/digest daily 09:00",
                   "Every day at 09:00 (Europe/Moscow): a summary of the day's tasks")  # fmt: skip

    wednesday = datetime(2026, 11, 25, 0, 0, tzinfo=MOSCOW).timestamp()
    amo.add_task("Prepare the contract", responsible_user_id=demo.admin,
                 complete_till=int(wednesday) + 15 * 3600, by_user=demo.maria)  # fmt: skip
    amo.add_task("Call Initech", responsible_user_id=demo.admin,
                 complete_till=int(wednesday) + 11 * 3600, by_user=demo.maria)  # fmt: skip
    await kept(service, demo.admin, 2)
    assert about(tg, anna, "Call Initech") == []  # kept, not sent

    travel_to(clock, datetime(2026, 11, 25, 9, 0, 20, tzinfo=MOSCOW))
    agenda = await says(tg, anna, "☀ Today's tasks: 2 (0 overdue)")
    heading, *lines = agenda.text.splitlines()
    assert heading.endswith("alerts since the last digest: 2")
    # The day's tasks by deadline, then the alerts kept overnight as they came.
    assert lines == [
        "• 🕒 11:00 Связаться: Call Initech",  # amoCRM names task types in its language
        "• 🕒 15:00 Связаться: Prepare the contract",
        "• 21:50 📌 New task from Maria Ivanova: Prepare the contract",
        "• 21:50 📌 New task from Maria Ivanova: Call Initech",
    ]

    # Deadline reminders do not wait for a digest: an hour before Initech, on time.
    travel_to(clock, datetime(2026, 11, 25, 10, 0, 5, tzinfo=MOSCOW))
    reminder = await says(tg, anna, "Due in 1 h")
    assert "Call Initech" in reminder.text
    assert len(about(tg, anna, "Today's tasks")) == 1  # the digest job ran all along: once


async def test_a_half_hourly_digest_collects_alerts_and_off_sends_the_rest_at_once(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    due = int(clock.now()) + 2 * 86400  # no reminder for days
    await answered(tg, anna, "/digest 30m",
                   "Deal and task alerts come together in one digest every 30 min.")  # fmt: skip

    amo.add_task("Send the offer", responsible_user_id=demo.admin, complete_till=due,
                 by_user=demo.maria)  # fmt: skip
    amo.add_task("Book the demo room", responsible_user_id=demo.admin, complete_till=due,
                 by_user=demo.maria)  # fmt: skip
    await kept(service, demo.admin, 2)
    clock.advance(31 * 60)
    digest = await says(tg, anna, "📰 Digest: 2 alert(s)")
    assert "New task from Maria Ivanova: Send the offer" in digest.text
    assert "New task from Maria Ivanova: Book the demo room" in digest.text

    amo.add_task("Renew the licence", responsible_user_id=demo.admin, complete_till=due,
                 by_user=demo.maria)  # fmt: skip
    await kept(service, demo.admin, 1)
    await answered(tg, anna, "/digest off",
                   "Alerts come at once again.\nSending what was kept: 1.")  # fmt: skip
    # The kept digest and the answer go out together: in either order.
    await shows(tg, anna, "📰 Digest: 1 alert(s)")

    amo.add_task("Sign the NDA", responsible_user_id=demo.admin, complete_till=due,
                 by_user=demo.maria)  # fmt: skip
    alert = await says(tg, anna, "Sign the NDA")  # at once, as a card with its buttons
    assert alert.text.startswith("📌 New task from Maria Ivanova")
    assert len(about(tg, anna, "📰 Digest")) == 2
