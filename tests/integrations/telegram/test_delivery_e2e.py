"""The outbox, its sender and TelegramNotifier end to end: a real aiogram Bot, the emulator on
loopback with Telegram's limits on, a real SQLite store. Due times and claim leases run on a
fake clock, so retries come due when a test says so, not after a sleep."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.core.clock import Clock, SystemClock
from bot.core.views import Button, TaskCard
from bot.delivery import ChannelLimits, hold_chat, wait_turn
from bot.delivery.outbox import (
    RETRY_DELAYS_S,
    DeliveryError,
    MessageRef,
    Outbox,
    OutboxItem,
    OutboxSender,
    outbox_queue,
)
from bot.store import CLAIM_LEASE_S
from bot.store.sqlite import SqliteStore
from integrations.telegram import TELEGRAM_LIMITS, TelegramNotifier, render_card
from sandbox.telegram import RateLimits, TelegramEmulator
from tests.integrations.telegram.fakes import FakeClock

SUBJECT = "task:7"
QUEUE = outbox_queue("telegram")
CARD = TaskCard(
    task_id=7, heading="⏰ Due in 15 min", type_name="Call", text="Call back <ACME> & co",
    due_text="today 15:00", deal_name="ACME", deal_url="https://demo.amocrm.ru/leads/detail/5",
    rows=(
        (Button(label="✔ Complete", payload="t:c:7", primary=True),
         Button(label="Snooze", payload="t:s:7")),
        (Button(label="Open in amoCRM", url="https://demo.amocrm.ru/leads/detail/5"),),
    ),
)  # fmt: skip
DONE = CARD.model_copy(update={"heading": "✔ Completed", "outcome": "✔ by Ann", "rows": ()})

Failures = list[tuple[OutboxItem, DeliveryError]]


@pytest.fixture
def failures() -> Failures:
    return []


@pytest.fixture
def outbox(store: SqliteStore, clock: FakeClock) -> Outbox:
    return Outbox(store, clock)


def make_sender(
    bot: Bot,
    store: SqliteStore,
    outbox: Outbox,
    clock: Clock,
    failures: Failures,
    limits: ChannelLimits = TELEGRAM_LIMITS,
) -> OutboxSender:
    async def on_permanent(item: OutboxItem, error: DeliveryError) -> None:
        failures.append((item, error))

    return OutboxSender(
        "telegram", TelegramNotifier(bot), limits, store=store, outbox=outbox, clock=clock,
        on_permanent_failure=on_permanent,
    )  # fmt: skip


@pytest.fixture
def sender(
    bot: Bot, store: SqliteStore, outbox: Outbox, clock: FakeClock, failures: Failures
) -> OutboxSender:
    return make_sender(bot, store, outbox, clock, failures)


def item(chat_id: int, *, recipient: int | None = 42) -> OutboxItem:
    return OutboxItem(
        channel="telegram", chat_id=str(chat_id), is_group=chat_id < 0, recipient=recipient,
        subject=SUBJECT, card=CARD,
    )  # fmt: skip


def sends(tg: TelegramEmulator, chat_id: int) -> list[int]:
    """Statuses of the sendMessage calls to ``chat_id``, in order."""
    return [r.status for r in tg.request_log if r.method == "sendMessage" and r.chat_id == chat_id]


async def test_it_delivers_a_card_and_records_where(
    tg: TelegramEmulator, store: SqliteStore, outbox: Outbox, sender: OutboxSender
) -> None:
    ann = tg.add_user("Ann", started=True)

    await outbox.enqueue([item(ann)])
    assert await sender.drain_once() == 1

    [shown] = tg.transcript(ann)
    assert await outbox.refs(SUBJECT) == [
        MessageRef(channel="telegram", chat_id=str(ann), message_id=str(shown.message_id),
                   recipient=42)
    ]  # fmt: skip
    assert shown.html == render_card(CARD).html
    assert shown.text.startswith("⏰ Due in 15 min\nCall: Call back <ACME> & co\n💼 ACME")
    assert shown.reply_markup == {
        "inline_keyboard": [
            [
                {"text": "✔ Complete", "style": "primary", "callback_data": "t:c:7"},
                {"text": "Snooze", "callback_data": "t:s:7"},
            ],
            [{"text": "Open in amoCRM", "url": "https://demo.amocrm.ru/leads/detail/5"}],
        ]
    }
    assert sender.delivered == 1
    assert await store.count_due(QUEUE) == 0


async def test_a_busy_chat_does_not_hold_up_another_and_keeps_its_order(
    tg: TelegramEmulator, outbox: Outbox, sender: OutboxSender, clock: FakeClock
) -> None:
    ann = tg.add_user("Ann", started=True)
    bob = tg.add_user("Bob", started=True)
    cards = [CARD.model_copy(update={"text": f"card {n}"}) for n in range(4)]
    await outbox.enqueue([
        *(item(ann).model_copy(update={"card": card}) for card in cards), item(bob),
    ])  # fmt: skip

    await sender.drain_once()  # one round: Bob's card goes with Ann's first, not after her four

    assert [m.text.splitlines()[1] for m in tg.transcript(ann)] == ["Call: card 0"]
    assert len(tg.transcript(bob)) == 1
    for _ in range(3):  # the rest come a chat's pace apart, in the order they were queued
        clock.advance(1.0)
        await sender.drain_once()
    assert [m.text.splitlines()[1] for m in tg.transcript(ann)] == [
        f"Call: card {n}" for n in range(4)
    ]


async def test_a_message_waiting_for_its_chat_holds_up_no_other_chat(
    tg: TelegramEmulator, store: SqliteStore, outbox: Outbox, sender: OutboxSender
) -> None:
    ann = tg.add_user("Ann", started=True)
    bob = tg.add_user("Bob", started=True)
    for _ in range(3):  # Ann's chat is booked: her next message waits 2 s for its turn
        await store.reserve_slot(f"telegram:chat:{ann}", 1.0)
    await outbox.enqueue([item(ann)])
    assert await sender.pump() == 1  # her delivery is started, not waited for
    await outbox.enqueue([item(bob)])
    assert await sender.pump() == 1

    await tg.wait_for_message(bob, timeout_s=5)  # Bob's goes at once
    assert tg.transcript(ann) == []  # still waiting for her turn
    later = CARD.model_copy(update={"text": "card 1"})
    await outbox.enqueue([item(ann).model_copy(update={"card": later})])
    assert await sender.pump() == 1  # after her first, whatever their turns
    await sender.finish()
    assert [m.text.splitlines()[1] for m in tg.transcript(ann)] == [
        "Call: Call back <ACME> & co",
        "Call: card 1",
    ]


async def test_it_edits_every_copy(
    tg: TelegramEmulator, outbox: Outbox, sender: OutboxSender
) -> None:
    ann = tg.add_user("Ann", started=True)
    group = tg.add_group("Sales A", [ann])
    await outbox.enqueue([item(ann), item(group, recipient=None)])
    assert await sender.drain_once() == 2

    async def card_for(ref: MessageRef) -> TaskCard:
        return DONE

    assert await outbox.edit_everywhere(SUBJECT, card_for) == 2
    assert await sender.drain_once() == 2  # waits out each chat's spacing since the send
    assert {(r.chat_id, r.recipient) for r in await outbox.refs(SUBJECT)} == {
        (str(ann), 42),
        (str(group), None),
    }

    for chat in (ann, group):
        [shown] = tg.transcript(chat)
        assert shown.html == render_card(DONE).html
        assert len(shown.edits) == 1
        assert shown.edits[0].startswith("⏰ Due in 15 min")
        assert shown.reply_markup is None
    assert tg.stats.messages_edited == 2
    assert tg.stats.too_many_requests == 0


async def test_it_gives_up_at_once_on_a_user_who_blocked_the_bot(
    tg: TelegramEmulator,
    store: SqliteStore,
    outbox: Outbox,
    sender: OutboxSender,
    clock: FakeClock,
    failures: Failures,
) -> None:
    ann = tg.add_user("Ann", started=True)
    tg.block_bot(ann)

    await outbox.enqueue([item(ann)])
    assert await sender.drain_once() == 1
    clock.advance(max(RETRY_DELAYS_S) + CLAIM_LEASE_S)
    assert await sender.drain_once() == 0

    [(failed, error)] = failures
    assert (failed.chat_id, failed.recipient, error.permanent) == (str(ann), 42, True)
    assert sends(tg, ann) == [403]
    assert await store.count_due(QUEUE) == 0
    assert await outbox.refs(SUBJECT) == []


async def test_it_waits_out_a_429_and_delivers_once(
    tg: TelegramEmulator, outbox: Outbox, sender: OutboxSender, clock: FakeClock
) -> None:
    ann = tg.add_user("Ann", started=True)
    tg.faults.add("429", 1, method="sendMessage", retry_after=3)

    await outbox.enqueue([item(ann)])
    assert await sender.drain_once() == 1
    clock.advance(2.9)
    assert await sender.drain_once() == 0  # not before retry_after
    clock.advance(0.2)
    assert await sender.drain_once() == 1
    clock.advance(CLAIM_LEASE_S + 1)
    assert await sender.drain_once() == 0

    assert sends(tg, ann) == [429, 200]
    assert len(tg.transcript(ann)) == 1
    assert len(await outbox.refs(SUBJECT)) == 1


async def test_it_retries_server_errors_with_backoff_and_delivers_once(
    tg: TelegramEmulator, outbox: Outbox, sender: OutboxSender, clock: FakeClock
) -> None:
    ann = tg.add_user("Ann", started=True)
    tg.faults.add("500", 2, method="sendMessage")
    first, second = RETRY_DELAYS_S[:2]

    await outbox.enqueue([item(ann)])
    assert await sender.drain_once() == 1
    clock.advance(first - 0.1)
    assert await sender.drain_once() == 0
    clock.advance(0.1)
    assert await sender.drain_once() == 1  # the second 500: the next wait is longer
    clock.advance(second - 0.1)
    assert await sender.drain_once() == 0
    clock.advance(0.1)
    assert await sender.drain_once() == 1
    clock.advance(CLAIM_LEASE_S + 1)
    assert await sender.drain_once() == 0

    assert sends(tg, ann) == [500, 500, 200]
    assert len(tg.transcript(ann)) == 1
    assert sender.delivered == 1


async def test_it_sends_once_after_a_crash_between_claim_and_send(
    tg: TelegramEmulator,
    bot: Bot,
    store: SqliteStore,
    outbox: Outbox,
    clock: FakeClock,
    failures: Failures,
) -> None:
    ann = tg.add_user("Ann", started=True)
    await outbox.enqueue([item(ann)])
    # A sender claims the item and dies before it sends anything.
    [lost] = await store.claim_due(QUEUE, clock.now(), 60, CLAIM_LEASE_S)
    assert lost.item_id
    restarted = make_sender(bot, store, outbox, clock, failures)

    assert await restarted.drain_once() == 0  # the dead claim still hides it
    clock.advance(CLAIM_LEASE_S + 0.1)
    assert await restarted.drain_once() == 1
    clock.advance(CLAIM_LEASE_S + 0.1)
    assert await restarted.drain_once() == 0

    assert sends(tg, ann) == [200]
    assert len(tg.transcript(ann)) == 1
    assert len(await outbox.refs(SUBJECT)) == 1
    assert await store.count_due(QUEUE) == 0


# -- pace: Telegram's limits and ours, with time running 20x faster for both -----------------
SPEEDUP = 20.0


def fast(limits: ChannelLimits) -> ChannelLimits:
    return ChannelLimits(
        per_chat_s=limits.per_chat_s / SPEEDUP,
        per_group_s=limits.per_group_s / SPEEDUP,
        global_s=limits.global_s / SPEEDUP,
        per_chat_burst=limits.per_chat_burst,
    )


@pytest.fixture
async def fast_tg() -> AsyncIterator[tuple[TelegramEmulator, Bot]]:
    """The emulator with Telegram's limits, on a clock 20x faster than the real one."""
    start = time.time()
    tg = TelegramEmulator(
        clock=lambda: start + (time.time() - start) * SPEEDUP, rate_limits=RateLimits()
    )
    async with tg.serve(host="127.0.0.1", port=0) as url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        yield tg, Bot(tg.token, session=session)
        await session.close()


@pytest.fixture
async def real_tg() -> AsyncIterator[tuple[TelegramEmulator, Bot]]:
    """The emulator with Telegram's limits on the real clock: 40 unpaced sends take well under
    a second of it, whatever the machine (on the fast clock a slow machine spreads them over
    enough emulated seconds for many to pass)."""
    tg = TelegramEmulator(rate_limits=RateLimits())
    async with tg.serve(host="127.0.0.1", port=0) as url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        yield tg, Bot(tg.token, session=session)
        await session.close()


async def drain_all(sender: OutboxSender, store: SqliteStore) -> None:
    while await store.count_due(QUEUE):
        await sender.drain_once()


async def test_it_sends_40_messages_to_one_chat_without_a_429(
    fast_tg: tuple[TelegramEmulator, Bot], tmp_path: Path, failures: Failures
) -> None:
    tg, bot = fast_tg
    ann = tg.add_user("Ann", started=True)
    store = await SqliteStore.open(str(tmp_path / "pace.db"))
    try:
        clock = SystemClock()
        outbox = Outbox(store, clock)
        sender = make_sender(bot, store, outbox, clock, failures, fast(TELEGRAM_LIMITS))
        await outbox.enqueue([item(ann) for _ in range(40)])

        await drain_all(sender, store)
    finally:
        await store.close()

    assert tg.stats.too_many_requests == 0
    assert tg.stats.rate_limited == 0
    assert sends(tg, ann) == [200] * 40
    assert len(tg.transcript(ann)) == 40


async def test_it_sends_21_messages_to_a_group_without_a_429(
    fast_tg: tuple[TelegramEmulator, Bot], tmp_path: Path, failures: Failures
) -> None:
    tg, bot = fast_tg
    ann = tg.add_user("Ann", started=True)
    group = tg.add_group("Sales A", [ann])
    store = await SqliteStore.open(str(tmp_path / "pace.db"))
    try:
        clock = SystemClock()
        outbox = Outbox(store, clock)
        sender = make_sender(bot, store, outbox, clock, failures, fast(TELEGRAM_LIMITS))
        await outbox.enqueue([item(group, recipient=None) for _ in range(21)])

        await drain_all(sender, store)
    finally:
        await store.close()

    assert tg.stats.too_many_requests == 0  # the 21st is past the group's one-minute window
    assert sends(tg, group) == [200] * 21


async def test_it_would_get_429s_without_the_pace(
    real_tg: tuple[TelegramEmulator, Bot],
    store: SqliteStore,
    outbox: Outbox,
    clock: FakeClock,
    failures: Failures,
) -> None:
    tg, bot = real_tg
    ann = tg.add_user("Ann", started=True)
    unpaced = ChannelLimits(per_chat_s=0.0, per_group_s=0.0, global_s=0.0)
    sender = make_sender(bot, store, outbox, clock, failures, unpaced)
    await outbox.enqueue([item(ann) for _ in range(40)])

    # One message of a chat per round, and without a pace the next round comes at once.
    for _ in range(40):
        await sender.drain_once()

    assert tg.stats.rate_limited > 30  # the check above can fail: its emulator does refuse


async def test_a_chat_keeps_its_gap_when_the_bots_turn_came_late(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "gap.db"))
    try:
        limits = ChannelLimits(per_chat_s=0.3, per_group_s=0.3, global_s=0.1)
        await store.reserve_slot("telegram:all", 0.4)  # the bot is busy for the next 0.4 s
        await wait_turn(store, "telegram", limits, "7", is_group=False)
        first = time.monotonic()  # the chat's slot came at once, the bot's 0.4 s later

        await wait_turn(store, "telegram", limits, "7", is_group=False)

        # Without moving the chat's slot, this one would go 0.1 s after the first.
        assert time.monotonic() - first >= 0.29
    finally:
        await store.close()


async def test_a_quiet_chat_takes_a_short_burst_then_keeps_the_pace(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "burst.db"))
    limits = ChannelLimits(per_chat_s=0.3, per_group_s=0.3, global_s=0.0, per_chat_burst=2)

    async def took(chat: str, times: int = 1) -> float:
        started = time.monotonic()
        for _ in range(times):
            await wait_turn(store, "telegram", limits, chat, is_group=chat.startswith("-"))
        return time.monotonic() - started

    try:
        assert await took("7", 2) < 0.15  # a notice and a card edit right after: no wait
        assert await took("7") >= 0.25  # the third waits for the bucket to refill
        assert await took("-8", 2) >= 0.25  # a group keeps its strict gap
        await hold_chat(store, "telegram", limits, "9", 0.3)  # "retry after 0.3 s"
        assert await took("9") >= 0.25  # the burst does not cut the hold short
    finally:
        await store.close()
