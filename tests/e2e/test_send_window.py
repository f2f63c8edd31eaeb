"""The outbox's send window (issue 12): Slack takes a message and the answer is lost (the
connection drops after the post). The attempt was recorded before the call, so the retry first
looks in the channel's history for the message tagged with the outbox item's id, finds it, and
records it instead of posting a second copy; the found message is the one later edits reach."""

from __future__ import annotations

from bot.app.wiring import Service
from bot.delivery import outbox_queue
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from tests.e2e.helpers import FakeClock, eventually, task_given
from tests.e2e.slack_helpers import message_text, slack_link, slack_says

HOUR = 3600


def showing(slack: SlackEmulator, channel: str, fragment: str) -> list[str]:
    """The ts of each bot message in ``channel`` that shows ``fragment`` now."""
    return [m.ts for m in slack.messages(channel) if fragment in message_text(m)]


def calls(slack: SlackEmulator, method: str) -> int:
    return sum(1 for r in slack.request_log if r.method == method)


async def test_a_post_whose_answer_was_lost_is_found_in_history_not_posted_twice(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    dm = slack.dm_channel(ivan)
    slack.faults.add("drop-after", method="chat.postMessage", delay_s=0)

    task_id = await task_given(service, amo, "Send the Acme contract", to=demo.ivan,
                               due=int(clock.now()) + 3 * HOUR, by=demo.maria)  # fmt: skip
    await slack_says(slack, dm, "Send the Acme contract")  # posted; its answer dropped
    assert slack.faults.pending == 0
    clock.advance(10)  # the retry comes due

    async def outbox_empty() -> bool:
        return await service.store.count_due(outbox_queue("slack")) == 0

    await eventually(outbox_empty, what="the Slack outbox to drain")
    assert calls(slack, "conversations.history") >= 1
    [card] = showing(slack, dm, "Send the Acme contract")  # one message, not two
    # The found message is recorded as the card's copy: completing the task edits it.
    amo.complete_task(task_id, by_user=demo.ivan)
    edited = await slack.wait_for_message(
        dm, lambda m: m.ts == card and "Completed by" in message_text(m), timeout_s=15
    )
    assert "Completed by Ivan Petrov (amoCRM)" in message_text(edited)
    assert len(showing(slack, dm, "Send the Acme contract")) == 1
