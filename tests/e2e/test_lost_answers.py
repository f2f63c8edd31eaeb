"""A press whose write amoCRM applied (or not) without saying so: the presser is told what is
true, the card credits the presser, and the task's author hears of it once (issue 12).

amoCRM has no idempotency keys: after a 500, a timeout or a dropped connection the only way to
know is to read the task again. The emulator's faults stand in for each way the answer is lost.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.app.settings import Settings
from bot.app.wiring import Service
from bot.tasks.actions import SETTLE_AFTER_S, SETTLE_QUEUE
from bot.tasks.parked import PARK_QUEUE, PARK_RETRY_S
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import ChatMessage, TelegramEmulator
from tests.e2e.helpers import FakeClock, buttons, eventually, link, says, settled

TEXT = "Call Globex about the renewal"
HOUR = 3600
TIMEOUT_S = 1.0  # amobridge's wait for one amoCRM answer, short so that a test can outwait it


@pytest.fixture
def service_settings(
    demo: DemoIds, tg: TelegramEmulator, make_settings: Callable[..., Settings]
) -> Settings:
    return make_settings(telegram=tg, request_timeout_s=TIMEOUT_S)


async def given_task(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> tuple[int, int, int, ChatMessage]:
    """Sergey gives Ivan a task; the author, the presser, the task and Ivan's card of it."""
    sergey = await link(service, tg, demo.supervisor, "Sergey")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    task_id = amo.add_task(TEXT, responsible_user_id=demo.ivan,
                           complete_till=int(clock.now()) + 3 * HOUR, entity_id=demo.leads[1],
                           by_user=demo.supervisor)  # fmt: skip
    card = await says(tg, ivan, "New task from Sergey")
    assert "✔ Complete" in buttons(card)
    await settled(service, amo)
    return sergey, ivan, task_id, card


async def pressed_despite(
    fault: str,
    service: Service,
    tg: TelegramEmulator,
    amo: AmoEmulator,
    demo: DemoIds,
    clock: FakeClock,
    delay_s: float = 0.0,
) -> tuple[int, int, int, ChatMessage]:
    """``given_task``, and Ivan presses Complete on its card while amoCRM's answer to the write
    is lost by ``fault``."""
    sergey, ivan, task_id, card = await given_task(service, tg, amo, demo, clock)
    amo.faults.add(fault, path_prefix=f"/api/v4/tasks/{task_id}", method="PATCH", delay_s=delay_s)
    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
    return sergey, ivan, task_id, card


async def press_timed_out(
    fault: str,
    outwait: float,
    service: Service,
    tg: TelegramEmulator,
    amo: AmoEmulator,
    demo: DemoIds,
    clock: FakeClock,
) -> tuple[int, int, int, ChatMessage]:
    """``pressed_despite`` a ``fault`` that holds the answer ``outwait`` times amobridge's wait
    for it: Ivan is told the outcome is being checked."""
    pressed = await pressed_despite(
        fault, service, tg, amo, demo, clock, delay_s=outwait * TIMEOUT_S
    )
    await says(tg, pressed[1], "amoCRM did not answer in time. We will check")
    return pressed


async def press_settled(service: Service) -> None:
    async def settled_once() -> bool:
        return await service.store.count_due(SETTLE_QUEUE) == 0

    await eventually(settled_once, what="the press to be settled")


def patches(amo: AmoEmulator, task_id: int) -> int:
    return sum(1 for r in amo.request_log
               if r.method == "PATCH" and r.path == f"/api/v4/tasks/{task_id}")  # fmt: skip


def reads(amo: AmoEmulator, task_id: int) -> int:
    return sum(1 for r in amo.request_log
               if r.method == "GET" and r.path == f"/api/v4/tasks/{task_id}")  # fmt: skip


def notes_by_ivan(amo: AmoEmulator, deal_id: int) -> int:
    return sum("Telegram by Ivan Petrov" in n["params"]["text"] for n in amo.notes(deal_id))


def done_notices(tg: TelegramEmulator, chat: int) -> list[ChatMessage]:
    return [m for m in tg.transcript(chat) if TEXT in m.text and "Completed by" in m.text]


async def test_applied_but_answered_500_is_done_and_credits_the_presser(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    sergey, ivan, task_id, card = await pressed_despite("500-after", service, tg, amo, demo, clock)

    edited = await says(tg, ivan, "Completed by Ivan Petrov (Telegram)")
    assert edited.message_id == card.message_id
    assert buttons(edited) == {}
    assert amo.task(task_id)["is_completed"] is True
    # The author hears it once, crediting the one who pressed, not the integration's user.
    notice = await says(tg, sergey, "Completed by Ivan Petrov (Telegram)")
    assert TEXT in notice.text
    await settled(service, amo)
    assert len(done_notices(tg, sergey)) == 1
    assert not any("nothing was changed" in m.text or "did not answer" in m.text
                   for m in tg.transcript(ivan))  # fmt: skip
    assert patches(amo, task_id) == 1  # read again, not written again
    assert notes_by_ivan(amo, demo.leads[1]) == 1
    assert await service.store.count_due(SETTLE_QUEUE) == 0


async def test_a_500_that_changed_nothing_says_so_and_credits_nobody_later(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    sergey, ivan, task_id, card = await pressed_despite("500", service, tg, amo, demo, clock)

    await says(tg, ivan, "amoCRM did not take the change; nothing was changed")
    assert amo.task(task_id)["is_completed"] is False
    assert "✔ Complete" in buttons(tg.message(ivan, card.message_id))
    # Completed later in amoCRM itself: that is not the press, and is not credited to it.
    amo.complete_task(task_id, by_user=demo.ivan)
    await says(tg, ivan, "Completed by Ivan Petrov (amoCRM)")
    await says(tg, sergey, "Completed by Ivan Petrov (amoCRM)")


async def test_an_answer_past_the_timeout_is_settled_when_amocrm_applies_it(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    # amoCRM carries the write out, but only after amobridge stopped waiting for the answer.
    sergey, ivan, task_id, card = await press_timed_out("slow", 3, service, tg, amo, demo, clock)
    # The change comes back by amoCRM's webhook, and is still Ivan's press.
    edited = await says(tg, ivan, "Completed by Ivan Petrov (Telegram)")
    assert edited.message_id == card.message_id
    assert amo.task(task_id)["is_completed"] is True
    await says(tg, sergey, "Completed by Ivan Petrov (Telegram)")

    clock.advance(SETTLE_AFTER_S[0] + 1)
    await says(tg, ivan, f"amoCRM confirmed it: your change to the task “{TEXT}” went through")

    await press_settled(service)
    await settled(service, amo)
    assert len(done_notices(tg, sergey)) == 1
    assert patches(amo, task_id) == 1
    assert notes_by_ivan(amo, demo.leads[1]) == 1


async def test_a_timeout_amocrm_never_applied_ends_in_nothing_changed(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    # A gateway gives up on amoCRM after amobridge did, and the write never happens.
    sergey, ivan, task_id, card = await press_timed_out(
        "timeout", 2, service, tg, amo, demo, clock
    )

    for wait in SETTLE_AFTER_S:  # each time it is due, the task is read again
        seen = reads(amo, task_id)
        clock.advance(wait + 1)

        async def read_again(seen: int = seen) -> bool:
            return reads(amo, task_id) > seen

        await eventually(read_again, what="the task to be read again")
    await says(tg, ivan, f"amoCRM did not apply your change to the task “{TEXT}”")

    await press_settled(service)
    assert amo.task(task_id)["is_completed"] is False
    assert "✔ Complete" in buttons(tg.message(ivan, card.message_id))
    assert done_notices(tg, sergey) == []


async def test_take_it_applied_but_answered_500_is_the_pressers(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")  # the integration's own user, too
    ivan = await link(service, tg, demo.ivan, "Ivan")
    await tg.send_command(anna, "subscribe", 'new_deal to group:"Sales A"')
    await says(tg, anna, "Subscription s")
    deal = amo.add_lead("Web form: Hooli", status_id=demo.incoming, pipeline_id=demo.pipeline,
                        responsible_user_id=demo.admin, by_user=demo.admin)  # fmt: skip
    alert = await says(tg, ivan, "Web form: Hooli")
    amo.faults.add("500-after", path_prefix=f"/api/v4/leads/{deal}", method="PATCH")

    await tg.press_button(ivan, ivan, alert.message_id, buttons(alert)["🙋 Take it"])

    edited = await says(tg, ivan, "Taken by Ivan Petrov (Telegram)")
    assert edited.message_id == alert.message_id
    assert amo.lead(deal)["responsible_user_id"] == demo.ivan
    await settled(service, amo)
    writes = [r for r in amo.request_log if r.method == "PATCH" and r.path.endswith(f"/{deal}")]
    assert len(writes) == 1
    assert not any("amoCRM did not" in m.text for m in tg.transcript(ivan))


def follow_ups(amo: AmoEmulator, deal_id: int) -> list[dict[str, object]]:
    """The follow-up tasks amoCRM holds on the deal."""
    added = [amo.task(e["entity_id"]) for e in amo.events() if e["type"] == "task_added"]
    ours = (t for t in added if t["entity_id"] == deal_id)
    return [t for t in ours if str(t["text"]).startswith("Follow up on “")]


async def given_deal_alert(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> tuple[int, int, ChatMessage]:
    ivan = await link(service, tg, demo.ivan, "Ivan")
    acme = demo.leads[0]
    amo.move_lead(acme, demo.qualified, by_user=demo.admin)
    return ivan, acme, await says(tg, ivan, "Deal moved")


async def press_follow_up(
    tg: TelegramEmulator, ivan: int, alert: ChatMessage, answer: str
) -> None:
    """Ivan presses "Follow up tomorrow" on the alert and is answered ``answer``."""
    await tg.press_button(ivan, ivan, alert.message_id, buttons(alert)["📅 Follow up tomorrow"])
    await says(tg, ivan, answer)


CREATED = "Follow-up task created in amoCRM: tomorrow 10:00."
EXISTS = "A follow-up task for tomorrow is already there."
IN_DOUBT = "amoCRM did not answer in time; the task may have"


@pytest.mark.parametrize(
    ("fault", "first", "second"),
    [
        # Applied, answered 500: the deal's tasks are read again, the task is there: done.
        ("500-after", CREATED, EXISTS),
        # A 500 that changed nothing: the re-read shows no task, so the next press makes it.
        ("500", "amoCRM did not take the change; nothing was changed", CREATED),
    ],
)
async def test_a_follow_up_whose_create_answered_500_is_made_once(
    service: Service,
    tg: TelegramEmulator,
    amo: AmoEmulator,
    demo: DemoIds,
    fault: str,
    first: str,
    second: str,
) -> None:
    ivan, acme, alert = await given_deal_alert(service, tg, amo, demo)
    amo.faults.add(fault, path_prefix="/api/v4/tasks", method="POST")

    await press_follow_up(tg, ivan, alert, first)
    assert len(follow_ups(amo, acme)) == (1 if fault == "500-after" else 0)
    await press_follow_up(tg, ivan, alert, second)
    assert len(follow_ups(amo, acme)) == 1


async def test_a_follow_up_whose_answer_came_too_late_is_not_made_twice_by_later_presses(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds
) -> None:
    ivan, acme, alert = await given_deal_alert(service, tg, amo, demo)
    # amoCRM creates the task, but long after amobridge stopped waiting for the answer; until
    # then its deal shows no such task.
    amo.faults.add("slow", delay_s=4 * TIMEOUT_S, path_prefix="/api/v4/tasks", method="POST")
    await press_follow_up(tg, ivan, alert, IN_DOUBT)

    # Pressed again at once: the deal's tasks show nothing yet, but the first create may still
    # land, so no second one is made.
    await tg.press_button(ivan, ivan, alert.message_id, buttons(alert)["📅 Follow up tomorrow"])
    answer = await tg.wait_for_message(
        ivan, lambda m: CREATED in m.text or IN_DOUBT in m.text, timeout_s=15
    )
    assert IN_DOUBT in answer.text

    async def created() -> bool:
        return len(follow_ups(amo, acme)) == 1

    await eventually(created, what="amoCRM to create the task late")
    # A press after that reads the deal's tasks before creating, and finds the first one.
    await press_follow_up(tg, ivan, alert, EXISTS)
    await settled(service, amo)
    assert len(follow_ups(amo, acme)) == 1


async def test_a_press_while_amocrm_is_down_is_saved_and_written_once_when_it_is_back(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    sergey, ivan, task_id, card = await given_task(service, tg, amo, demo, clock)
    amo.faults.add("503", count=1000, path_prefix=f"/api/v4/tasks/{task_id}")

    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
    await says(tg, ivan, "amoCRM is not answering right now. Your change is saved")
    clock.advance(PARK_RETRY_S[0] + 1)  # amoCRM is tried again, and still does not answer

    async def tried_again() -> bool:
        return reads(amo, task_id) > 2

    await eventually(tried_again, what="the parked press to be tried again")
    assert amo.task(task_id)["is_completed"] is False
    assert patches(amo, task_id) == 0

    amo.faults.clear()  # amoCRM is back
    clock.advance(PARK_RETRY_S[1] + 1)
    edited = await says(tg, ivan, "Completed by Ivan Petrov (Telegram)")
    assert edited.message_id == card.message_id
    await says(tg, ivan, f"amoCRM is back: your change to the task “{TEXT}” is written there.")
    await says(tg, sergey, "Completed by Ivan Petrov (Telegram)")
    await settled(service, amo)
    assert amo.task(task_id)["is_completed"] is True
    assert patches(amo, task_id) == 1
    assert len(done_notices(tg, sergey)) == 1
    assert await service.store.count_due(PARK_QUEUE) == 0
