"""Waiting helpers for end-to-end tests: bounded waits on conditions, never fixed sleeps."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from bot.app.wiring import Service
from bot.crm.catchup import DEAL_SYNC_CURSOR
from bot.delivery.outbox import outbox_queue
from sandbox.amocrm import AmoEmulator
from sandbox.telegram import ChatMessage, TelegramEmulator


class FakeClock:
    """Real time plus an offset: things still happen on their own, and a test can jump ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def free_port() -> int:
    """A loopback port nothing listens on now, for a service that must know its address first."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def travel_to(clock: FakeClock, moment: datetime) -> None:
    clock.advance(moment.timestamp() - clock.now())


def clock_at(moment: datetime) -> FakeClock:
    """A clock that starts at ``moment`` (for tests about a given evening or morning)."""
    clock = FakeClock()
    clock.offset = moment.timestamp() - time.time()
    return clock


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 15.0, what: str = "condition"
) -> None:
    """Wait for a condition the service must reach; fail (not hang) past ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def settled(service: Service, amo: AmoEmulator) -> None:
    """Every webhook delivered and every queued hint applied."""
    await amo.drain_webhooks()
    assert service.crm is not None
    crm = service.crm

    async def empty() -> bool:
        return await crm.inbox.depth() == 0 and await crm.catch_up.depth() == 0

    await eventually(empty, what="the inbox to drain")


async def all_sent(service: Service, amo: AmoEmulator) -> None:
    """Every change applied and every Telegram message that follows from it sent."""
    await settled(service, amo)

    async def empty() -> bool:
        return await service.store.count_due(outbox_queue("telegram")) == 0

    await eventually(empty, what="the outbox to drain")


def bot_messages(tg: TelegramEmulator, chat: int, fragment: str) -> list[ChatMessage]:
    """What the bot sent to ``chat`` that holds ``fragment``."""
    return [m for m in tg.transcript(chat) if m.from_bot and fragment in m.text]


async def synced(service: Service) -> None:
    """The first sync with amoCRM is done: the cache holds the account's open tasks."""

    async def done() -> bool:
        return await service.store.get_cursor(DEAL_SYNC_CURSOR) is not None

    await eventually(done, what="the first sync")


# --- Telegram: what a user sees and does -------------------------------------------------


async def says(tg: TelegramEmulator, chat: int, fragment: str) -> ChatMessage:
    """The next bot message (or edit) in ``chat`` containing ``fragment``."""
    try:
        return await tg.wait_for_message(chat, lambda m: fragment in m.text, timeout_s=15)
    except TimeoutError:
        seen = "\n---\n".join(m.text for m in tg.transcript(chat))
        pytest.fail(f"the bot never said {fragment!r}; the chat holds:\n{seen}")


async def answered(tg: TelegramEmulator, chat: int, command: str, fragment: str) -> ChatMessage:
    """``chat`` sends ``command`` ("/name its words"); the bot's answer containing ``fragment``."""
    name, _, words = command.partition(" ")
    await tg.send_command(chat, name, words or None)
    return await says(tg, chat, fragment)


async def card_of(tg: TelegramEmulator, chat: int, text: str) -> ChatMessage:
    """``chat`` asks for today's tasks (``/tasks``); the card of the task ``text``."""
    return await answered(tg, chat, "/tasks", text)


async def shows(tg: TelegramEmulator, chat: int, fragment: str) -> None:
    """Some message of ``chat``, in its current text, contains ``fragment`` (order aside)."""

    async def present() -> bool:
        return any(fragment in m.text for m in tg.transcript(chat))

    await eventually(present, what=repr(fragment))


async def link(service: Service, tg: TelegramEmulator, amo_user: int, name: str) -> int:
    """Link a Telegram user to ``amo_user`` through an admin's invite deep link."""
    assert service.services is not None
    code = await service.services.linking.create_invite(amo_user)
    user = tg.add_user(first_name=name, language_code="en")
    await tg.send_command(user, "start", code)
    await says(tg, user, "Вы в amoCRM")  # seeded amoCRM users speak Russian
    await tg.send_command(user, "lang", "en")
    await says(tg, user, "Language: English.")
    return user


async def reminder_scheduled(service: Service, count: int) -> None:
    """The new task reached amobridge and its first reminder is in the index."""

    async def scheduled() -> bool:
        return await service.store.count_due("reminders") >= count

    await eventually(scheduled, what="the reminder to be scheduled")


async def task_given(
    service: Service,
    amo: AmoEmulator,
    text: str,
    *,
    to: int,
    due: int,
    by: int,
    entity_id: int | None = None,
) -> int:
    """``by`` gives ``to`` a task ``text`` due at ``due`` in amoCRM; its id, once amobridge has
    it and its first reminder is in the index."""
    scheduled = await service.store.count_due("reminders")
    task_id = amo.add_task(
        text, responsible_user_id=to, complete_till=due, entity_id=entity_id, by_user=by
    )
    await reminder_scheduled(service, scheduled + 1)
    return task_id


def about(tg: TelegramEmulator, chat: int, text: str) -> list[ChatMessage]:
    """The bot's messages in ``chat`` (as they are now) that mention ``text``."""
    return [m for m in tg.transcript(chat) if m.from_bot and text in m.text]


def buttons(message: ChatMessage) -> dict[str, str]:
    """Button label → callback data of a message's inline keyboard."""
    markup = message.reply_markup or {}
    return {
        b["text"]: b["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "callback_data" in b
    }
