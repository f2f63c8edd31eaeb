"""Guessing a Telegram link code is bounded per amoCRM user and per Telegram account (issue 12).

The code proves control of an amoCRM account, so guessing it must stay hopeless: starting over,
another Telegram account or a restart of the service gains no attempts, a lock says when to come
back, the admins hear of it once, and the victim's amoCRM does not fill up with code tasks.
Run on SQLite and on Redis: the count lives in the store.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import pytest

from bot.app.settings import Settings
from bot.app.wiring import Service, running_service
from bot.people.code_linking import COOLDOWN_S
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, link, says

WRONG = "999999"


@pytest.fixture
def settings(
    demo: DemoIds, tg: TelegramEmulator, make_settings: Callable[..., Settings]
) -> Settings:
    return make_settings(telegram=tg)


@pytest.fixture
async def service(settings: Settings, clock: FakeClock) -> AsyncIterator[Service]:
    async with running_service(settings, clock=clock) as running:
        yield running


def code_tasks(amo: AmoEmulator, amo_user: int) -> list[dict[str, object]]:
    """The code tasks amobridge made for ``amo_user``, as amoCRM has them now."""
    made = {e["entity_id"] for e in amo.events() if e["type"] == "task_added"}
    tasks = [amo.task(task_id) for task_id in sorted(made)]
    return [t for t in tasks
            if t["responsible_user_id"] == amo_user and "amobridge" in str(t["text"])]  # fmt: skip


def open_code_tasks(amo: AmoEmulator, amo_user: int) -> int:
    return sum(1 for t in code_tasks(amo, amo_user) if not t["is_completed"])


async def ask_code(tg: TelegramEmulator, user: int, email: str, answer: str) -> None:
    await tg.send_command(user, "start")
    await says(tg, user, "Send me the e-mail")
    await tg.send_text(user, email)
    await says(tg, user, answer)


async def guess(tg: TelegramEmulator, user: int, answer: str) -> None:
    await tg.send_text(user, WRONG)
    await says(tg, user, answer)


async def test_starting_over_gains_no_guesses_and_leaves_one_code_task(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    await tg.send_command(anna, "lang", "ru")  # the admin reads Russian
    await says(tg, anna, "Язык")
    mallory = tg.add_user(first_name="Mallory", language_code="en")

    await ask_code(tg, mallory, "ivan@demo.example", "I created a task")
    for left in (4, 3, 2, 1):
        await guess(tg, mallory, f"Attempts left: {left}")
    # Starting over: a new code, in place of the first one, and no new attempts.
    await ask_code(tg, mallory, "ivan@demo.example", "I created a task")
    assert len(code_tasks(amo, demo.ivan)) == 2
    assert open_code_tasks(amo, demo.ivan) == 1
    await guess(tg, mallory, "Too many wrong codes. The code no longer works; you can get a new "
                             "one in 15 min.")  # fmt: skip
    assert open_code_tasks(amo, demo.ivan) == 0

    # No new code for 15 minutes, and the message says when.
    await ask_code(tg, mallory, "ivan@demo.example", "You can get a new code in 15 min.")
    clock.advance(5 * 60)
    await ask_code(tg, mallory, "ivan@demo.example", "You can get a new code in 10 min.")
    assert len(code_tasks(amo, demo.ivan)) == 2

    # The admins hear of it once, in their own language.
    notice = await says(tg, anna, "неверный код привязки к аккаунту Ivan Petrov")
    assert "5 раз" in notice.text
    assert str(mallory) in notice.text or "@" in notice.text  # which Telegram account
    assert sum("неверный код привязки" in m.text for m in tg.transcript(anna)) == 1

    # After the pause a code comes again; within the hour one more wrong code locks again.
    clock.advance(COOLDOWN_S)
    await ask_code(tg, mallory, "ivan@demo.example", "I created a task")
    await guess(tg, mallory, "Too many wrong codes")
    assert open_code_tasks(amo, demo.ivan) == 0
    assert sum("неверный код привязки" in m.text for m in tg.transcript(anna)) == 2
    assert service.services is not None
    assert await service.services.links.by_amo(demo.ivan, "telegram") is None


async def test_guesses_from_several_accounts_count_against_the_amocrm_user(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    first = tg.add_user(first_name="Mallory", language_code="en")
    second = tg.add_user(first_name="Trudy", language_code="en")
    await ask_code(tg, first, "ivan@demo.example", "I created a task")
    for left in (4, 3, 2):
        await guess(tg, first, f"Attempts left: {left}")
    await ask_code(tg, second, "ivan@demo.example", "I created a task")
    await guess(tg, second, "Attempts left: 1")
    await guess(tg, second, "Too many wrong codes")
    # Ivan is locked for everyone: the first account's code is void, and no new one comes.
    await guess(tg, first, "Too many wrong codes")
    third = tg.add_user(first_name="Eve", language_code="en")
    await ask_code(tg, third, "ivan@demo.example", "You can get a new code in 15 min.")
    assert open_code_tasks(amo, demo.ivan) == 0
    # Someone else's linking is not held up by it.
    await ask_code(tg, third, "maria@demo.example", "I created a task")
    maria_task = code_tasks(amo, demo.maria)[-1]
    code = re.search(r"\b(\d{6})\b", str(maria_task["text"]))
    assert code is not None
    await tg.send_text(third, code.group(1))
    await says(tg, third, "Maria Ivanova")


async def test_a_restart_keeps_the_count(
    settings: Settings, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    mallory = tg.add_user(first_name="Mallory", language_code="en")
    async with running_service(settings, clock=clock):
        await ask_code(tg, mallory, "ivan@demo.example", "I created a task")
        for left in (4, 3, 2):
            await guess(tg, mallory, f"Attempts left: {left}")
    async with running_service(settings, clock=clock):  # another process, the same store
        await ask_code(tg, mallory, "ivan@demo.example", "I created a task")
        await guess(tg, mallory, "Attempts left: 1")
        await guess(tg, mallory, "Too many wrong codes")
        await ask_code(tg, mallory, "ivan@demo.example", "You can get a new code in 15 min.")
    assert open_code_tasks(amo, demo.ivan) == 0
