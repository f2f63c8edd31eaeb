"""Not acted on → the other messenger: with ``/config other_messenger 30m``, a reminder that
went to Telegram only (the person chose it) and that nobody acted on for 30 minutes is repeated
once in their Slack; after a press, it is not, nor when the task is completed while the repeat
waits for her mute to end. The real service, Telegram, Slack and amoCRM
emulators, one FakeClock."""

from __future__ import annotations

from bot.app.wiring import Service
from bot.delivery.outbox import outbox_queue
from bot.people.holding import held_queue
from bot.tasks.elsewhere import ELSEWHERE_QUEUE
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import ChatMessage, TelegramEmulator
from tests.e2e.helpers import FakeClock, answered, buttons, eventually, link, says, task_given
from tests.e2e.slack_helpers import message_text, slack_admin, slack_says

NOT_ACTED = "🔔 A reminder not acted on in Telegram"


async def telegram_only_with_a_reminder(
    service: Service, tg: TelegramEmulator, slack: SlackEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> tuple[int, ChatMessage, str, int]:  # fmt: skip
    """Anna, linked in both and hearing in Telegram only, gets the first reminder of a task
    (in an hour) there; her Telegram chat, the reminder, her Slack DM channel and the task."""
    anna = await link(service, tg, demo.admin, "Anna")
    anna_slack = await slack_admin(slack)
    await answered(tg, anna, "/config other_messenger 30m", "is repeated once in the person's")
    await answered(tg, anna, "/messenger telegram", "Alerts and reminders come to Telegram only.")
    task_id = await task_given(service, amo, "Send the offer", to=demo.admin,
                               due=int(clock.now()) + 61 * 60, by=demo.maria)  # fmt: skip
    clock.advance(65)
    reminder = await says(tg, anna, "⏰ Due in 1 h")
    return anna, reminder, slack.dm_channel(anna_slack), task_id


async def repeats_settled(service: Service, pending: int = 0) -> None:
    """The planned repeats that came due were decided (``pending`` are still to come), and what
    they sent went out."""

    async def done() -> bool:
        store = service.store
        return (
            await store.count_due(ELSEWHERE_QUEUE) == pending
            and await store.count_due(outbox_queue("slack")) == 0
        )

    await eventually(done, what="the repeats to be decided")


def repeats(slack: SlackEmulator, dm: str) -> list[str]:
    return [message_text(m) for m in slack.messages(dm) if NOT_ACTED in message_text(m)]


async def test_an_unanswered_reminder_is_repeated_once_in_slack(
    service: Service, tg: TelegramEmulator, slack: SlackEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    _, _, dm, _ = await telegram_only_with_a_reminder(service, tg, slack, amo, demo, clock)
    clock.advance(20 * 60)
    await repeats_settled(service, pending=1)
    assert repeats(slack, dm) == []  # not yet: 30 minutes
    clock.advance(11 * 60)
    repeat = await slack_says(slack, dm, NOT_ACTED)
    assert "Send the offer" in message_text(repeat)
    clock.advance(5 * 60)  # further rounds of every loop: still one
    await repeats_settled(service)
    assert len(repeats(slack, dm)) == 1


async def test_after_a_press_nothing_is_repeated(
    service: Service, tg: TelegramEmulator, slack: SlackEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    anna, card, dm, _ = await telegram_only_with_a_reminder(service, tg, slack, amo, demo, clock)
    await tg.press_button(anna, anna, card.message_id, buttons(card)["✔ Complete"])
    await says(tg, anna, "Completed by Anna Admin (Telegram)")
    clock.advance(31 * 60)
    await repeats_settled(service)
    assert repeats(slack, dm) == []


async def test_a_repeat_held_by_a_mute_is_dropped_if_the_task_is_completed_meanwhile(
    service: Service, tg: TelegramEmulator, slack: SlackEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    anna, _, dm, task_id = await telegram_only_with_a_reminder(
        service, tg, slack, amo, demo, clock
    )
    await answered(tg, anna, "/mute 2h", "Muted until")
    clock.advance(31 * 60)  # the repeat comes due, and waits for the mute

    async def held() -> bool:
        return await service.store.count_due(held_queue(demo.admin)) > 0

    await eventually(held, what="the repeat to wait for the mute")
    amo.complete_task(task_id, by_user=demo.maria)
    await says(tg, anna, "Completed by Maria Ivanova")
    clock.advance(2 * 3600)  # the mute is over: what waited is released

    async def released() -> bool:
        return await service.store.count_due(held_queue(demo.admin)) == 0

    await eventually(released, what="the held messages to be released")
    await repeats_settled(service)
    assert repeats(slack, dm) == []
