"""The account's own settings, set by an admin with ``/config …`` and kept in the YAML file:
working hours (which people without their own then see in ``/hours``), control tasks on
escalation, and the repeat of unanswered reminders in the other messenger."""

from __future__ import annotations

from bot.app.wiring import Service
from sandbox.amocrm import DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import answered, link, says


async def test_an_admin_sets_the_account_settings_and_they_travel_in_the_file(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    assert service.services is not None
    prefs = service.services.prefs
    anna, ivan = (
        await link(service, tg, demo.admin, "Anna"),
        await link(service, tg, demo.ivan, "Ivan"),
    )
    await answered(tg, anna, "/config hours 9-18 пн-пт",
                   "The company's working hours: 09:00-18:00 mon-fri")  # fmt: skip
    await answered(tg, ivan, "/hours", "The company's working hours: 09:00-18:00 mon-fri")
    await answered(tg, anna, "/config control_tasks on", "gives the supervisor a control task")
    await answered(tg, anna, "/config other_messenger 30m",
                   "A reminder nobody acts on within 30 min is repeated once")  # fmt: skip
    await answered(tg, anna, "/config other_messenger 1m",
                   "from 5 minutes to 24 hours (30m, 2h) or off.\nFor example: "
                   "/config other_messenger 30m")  # fmt: skip
    await answered(tg, anna, "/config hours 18-9", "For example: /config hours 09:00-18:00")
    await answered(tg, ivan, "/config control_tasks off", "Only amoCRM admins")

    sent = await answered(tg, anna, "/config export", "The alert set-up")
    assert sent.document is not None
    exported = sent.document.data.decode()
    assert "control_tasks: true\n" in exported
    assert "working_hours: 09:00-18:00 mon-fri\n" in exported
    assert "other_messenger_after_min: 30\n" in exported

    broken = exported.replace("09:00-18:00 mon-fri", "18:00-09:00 mon-fri")
    await tg.send_document(anna, "set-up.yaml", broken.encode(), caption="/config import")
    await says(tg, anna, "working_hours: The working day must end after it starts")
    assert (await prefs.account()).other_messenger_after_min == 30

    edited = exported.replace("09:00-18:00 mon-fri", "10:00-19:00 mon-sat").replace(
        "other_messenger_after_min: 30", "other_messenger_after_min: null"
    )
    await tg.send_document(anna, "set-up.yaml", edited.encode(), caption="/config import")
    await says(tg, anna, "Set-up imported")
    await answered(tg, ivan, "/hours", "The company's working hours: 10:00-19:00 mon-sat")
    assert (await prefs.account()).other_messenger_after_min is None
    await answered(tg, anna, "/config hours off", "No company working hours")
