"""Send limits: 429 with an integer retry_after when exceeded, none when paced."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from sandbox.telegram import RateLimits, TelegramEmulator
from tests.sandbox.telegram.helpers import FakeClock, api_error, keyboard


async def test_a_fast_burst_to_one_chat_gets_429_with_retry_after(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    for n in range(3):  # the burst allowance
        await bot.send_message(ivan, f"#{n}")
    error = await api_error(TelegramRetryAfter, bot.send_message(ivan, "#3"))
    assert isinstance(error, TelegramRetryAfter)
    assert error.retry_after == 1
    assert error.message.endswith("Original description: Too Many Requests: retry after 1")
    assert tg.stats.rate_limited == 1
    assert tg.stats.too_many_requests == 1
    clock.advance(error.retry_after)
    await bot.send_message(ivan, "#3 again")
    assert [m.text for m in tg.transcript(ivan)][-1] == "#3 again"


async def test_retry_after_is_a_whole_number_of_seconds_at_least_one(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    tg.rate_limits = RateLimits(per_chat_per_s=0.2, per_chat_burst=1)
    await bot.send_message(ivan, "one")
    error = await api_error(TelegramRetryAfter, bot.send_message(ivan, "two"))
    assert isinstance(error, TelegramRetryAfter)
    assert error.retry_after == 5


async def test_pacing_one_message_per_second_per_chat_never_hits_the_limit(
    tg: TelegramEmulator, bot: Bot, clock: FakeClock
) -> None:
    users = [tg.add_user(first_name=f"U{n}", started=True) for n in range(3)]
    for second in range(20):
        for user in users:
            await bot.send_message(user, f"tick {second}")
        clock.advance(1)
    assert tg.stats.too_many_requests == 0
    assert tg.stats.messages_sent == 60


async def test_a_group_takes_20_messages_a_minute(
    tg: TelegramEmulator, bot: Bot, clock: FakeClock
) -> None:
    group = tg.add_group(title="Sales A")
    for n in range(20):
        await bot.send_message(group, f"#{n}")
        clock.advance(1)  # within the per-chat pace
    error = await api_error(TelegramRetryAfter, bot.send_message(group, "#20"))
    assert isinstance(error, TelegramRetryAfter)
    assert error.retry_after == 40  # the first of the 20 leaves the minute at t=60
    clock.advance(40)
    await bot.send_message(group, "#20")


async def test_the_global_limit_is_30_a_second(
    tg: TelegramEmulator, bot: Bot, clock: FakeClock
) -> None:
    users = [tg.add_user(first_name=f"U{n}", started=True) for n in range(31)]
    for user in users[:30]:
        await bot.send_message(user, "broadcast")
    error = await api_error(TelegramRetryAfter, bot.send_message(users[30], "broadcast"))
    assert isinstance(error, TelegramRetryAfter)
    assert error.retry_after == 1
    clock.advance(0.04)  # a little over 1/30 s frees one slot
    await bot.send_message(users[30], "broadcast")


async def test_edits_count_answers_and_polls_do_not(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "v0", reply_markup=keyboard("a"))
    query_id = await tg.press_button(ivan, ivan, sent.message_id, "a")
    for n in (1, 2):
        await bot.edit_message_text(
            f"v{n}", chat_id=ivan, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    await api_error(
        TelegramRetryAfter,
        bot.edit_message_text("v3", chat_id=ivan, message_id=sent.message_id),
    )
    assert await bot.answer_callback_query(query_id) is True
    assert len(await bot.get_updates()) == 1


async def test_limits_can_be_switched_off(tg: TelegramEmulator, bot: Bot, ivan: int) -> None:
    tg.rate_limits = False
    for n in range(40):
        await bot.send_message(ivan, f"#{n}")
    assert tg.rate_limits is None
    assert tg.stats.too_many_requests == 0


async def test_an_emulator_can_start_without_limits(clock: FakeClock) -> None:
    quiet = TelegramEmulator(clock=clock, rate_limits=False)
    assert quiet.rate_limits is None
    loud = TelegramEmulator(clock=clock, rate_limits=RateLimits(global_per_s=25.0))
    assert loud.rate_limits is not None
    assert loud.rate_limits.global_per_s == 25.0
