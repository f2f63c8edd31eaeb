"""Replies under rate limits: a person's command answered while Telegram or Slack says "429,
retry after N s" arrives after those N seconds, with no apology and no traceback in the log.
The faults are the emulators' own (a real 429 with its Retry-After)."""

from __future__ import annotations

import logging
import time

import pytest

from bot.app.wiring import Service
from bot.core import Channel
from bot.delivery import outbox_queue
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, eventually, link, says, shows, task_given
from tests.e2e.slack_helpers import acked_in_time, slack_link, slack_says, tells

RETRY_AFTER_S = 2
APOLOGY = "Something went wrong"


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert not logged, [r.getMessage() for r in logged]


async def outbox_empty(service: Service, channel: Channel) -> None:
    async def empty() -> bool:
        return await service.store.count_due(outbox_queue(channel)) == 0

    await eventually(empty, what=f"the {channel} outbox to empty")


async def test_a_telegram_reply_waits_out_a_429_and_arrives(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    anna = await link(service, tg, demo.admin, "Anna")  # nothing due today: the reply alone
    await outbox_empty(service, "telegram")
    caplog.set_level(logging.INFO)
    tg.faults.add("429", count=1, method="sendMessage", retry_after=RETRY_AFTER_S)
    asked = time.monotonic()
    await tg.send_command(anna, "tasks")
    await says(tg, anna, "No open tasks for today")
    assert tg.faults.injected == 1  # the reply met the 429 ...
    assert time.monotonic() - asked >= RETRY_AFTER_S  # ... and was sent again after it

    # Cards and the reply meet flood control together: all arrive, nobody is told of a fault.
    await task_given(service, amo, "Call Acme", to=demo.admin,
                     due=int(clock.now()) + 3 * 3600, by=demo.maria)  # fmt: skip
    await outbox_empty(service, "telegram")
    tg.faults.add("429", count=2, method="sendMessage", retry_after=RETRY_AFTER_S)
    await tg.send_command(anna, "tasks")
    await says(tg, anna, "Tasks for today: 1")
    await shows(tg, anna, "Call Acme")
    assert tg.faults.injected == 3
    assert not any(APOLOGY in m.text for m in tg.transcript(anna))
    no_traceback(caplog)


async def test_a_slack_reply_waits_out_a_429_and_arrives(
    service: Service, slack: SlackEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    ivan = await slack_link(slack, "Ivan Petrov", "ivan@demo.example")
    await task_given(service, amo, "Call Acme", to=demo.ivan,
                     due=int(clock.now()) + 3 * 3600, by=demo.maria)  # fmt: skip
    caplog.set_level(logging.INFO)
    slack.faults.add("429", count=1, method="response_url", retry_after=RETRY_AFTER_S)
    slack.faults.add("429", count=1, method="chat.postMessage", retry_after=RETRY_AFTER_S)
    asked = time.monotonic()
    acked_in_time(await slack.slash_command(ivan, "/amo", "tasks"))
    await tells(slack, ivan, "Tasks for today:")
    assert time.monotonic() - asked >= RETRY_AFTER_S
    await slack_says(slack, slack.dm_channel(ivan), "Call Acme")
    assert slack.faults.injected == 2
    assert not any(APOLOGY in m.text for m in slack.ephemerals(ivan))
    no_traceback(caplog)
