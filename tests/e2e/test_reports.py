"""Admins see whether tasks are done on time: ``/report`` draws a chart of each person's on-time
share, reaction and the overdue trend, ``/export`` gives the figures and the log as a workbook.
The log is written by the real service as messages go out, buttons are pressed and tasks change
in amoCRM."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import ChatMessage, TelegramEmulator
from tests.e2e.helpers import FakeClock, answered, buttons, link, says, shows
from tests.e2e.slack_helpers import amo_tells, slack_admin, slack_says

MIN = 60
HOUR = 3600
PNG = b"\x89PNG\r\n\x1a\n"
XLSX = b"PK\x03\x04"  # a zip archive
pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)


async def reminded(tg: TelegramEmulator, chat: int, text: str) -> ChatMessage:
    return await tg.wait_for_message(
        chat, lambda m: "Due in 1 h" in m.text and text in m.text, timeout_s=10
    )


def sheet_rows(data: bytes, sheet: str) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(data))
    return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]


async def test_report_and_export_show_who_reacted_and_how_soon(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    ivan = await link(service, tg, demo.ivan, "Ivan")  # Sales A
    oleg = await link(service, tg, demo.oleg, "Oleg")  # Sales B
    due = int(clock.now()) + 2 * 3600
    ivans = amo.add_task(
        "Call Acme about the renewal", responsible_user_id=demo.ivan, complete_till=due,
        entity_id=demo.leads[0], by_user=demo.maria,
    )  # fmt: skip
    olegs = amo.add_task(
        "Send Initech the price list", responsible_user_id=demo.oleg, complete_till=due,
        by_user=demo.maria,
    )  # fmt: skip
    # The "new task" alerts: amobridge has the tasks, their reminders are planned.
    await says(tg, ivan, "Call Acme about the renewal")
    await says(tg, oleg, "Send Initech the price list")
    clock.advance(3600 + 5)
    reminder = await reminded(tg, ivan, "Call Acme about the renewal")
    await reminded(tg, oleg, "Send Initech the price list")
    clock.advance(4 * MIN)
    await tg.press_button(ivan, ivan, reminder.message_id, buttons(reminder)["✔ Complete"])
    await shows(tg, ivan, "Completed by Ivan Petrov")
    clock.advance(HOUR)  # Oleg's deadline has passed

    chart = await answered(tg, anna, '/report week group:"Sales A"', "📊 Tasks")
    assert chart.photo is not None
    assert chart.photo.data.startswith(PNG)
    assert (chart.photo.width, chart.photo.height) == (840, 1500)  # portrait, for a phone
    assert "· Sales A" in chart.text
    # Ivan's, and the demo's "Call Acme about the license count" (due 15 min after the
    # start, reminded, never touched): one of two on time, that one overdue now.
    assert "2 due, 50% completed on time" in chart.text
    assert "Overdue now: 1" in chart.text
    assert "1 completed, 0 handed over, 0 snoozed and still open, 1 with no reaction" in (
        chart.text
    )
    # From the first notice (the "new task" alert) to the press: 1 h 4 min.
    median = re.search(r"Reaction to a notice: median ([\d.]+) h", chart.text)
    assert median is not None
    assert float(median.group(1)) == 1.1

    book = await answered(tg, anna, "/export month", "The figures per person, the tasks and")
    assert book.document is not None
    assert book.document.file_name == "amobridge-activity-30d.xlsx"
    assert book.document.data.startswith(XLSX)
    assert load_workbook(io.BytesIO(book.document.data)).sheetnames == ["People", "Tasks", "Log"]
    people = {row[0]: row for row in sheet_rows(book.document.data, "People")}
    header = people.pop("Person")
    assert header[1:4] == ("Tasks due", "On time", "On-time share")
    ivan_row, oleg_row = people["Ivan Petrov"], people["Oleg Sidorov"]
    assert ivan_row[1:4] == (2, 1, 0.5)  # due, on time, share
    assert oleg_row[1:4] == (1, 0, 0)  # his task is due, and not done…
    assert oleg_row[header.index("No reaction")] == 1  # …nobody pressed a thing…
    assert oleg_row[header.index("Overdue now")] == 1  # …and it is overdue
    reaction = ivan_row[header.index("Median reaction, min")]
    assert isinstance(reaction, int | float)
    assert 64.0 <= reaction < 64.5
    log = sheet_rows(book.document.data, "Log")
    assert log[0] == ("Time", "Person", "Event", "What", "Messenger", "About")
    assert ("Ivan Petrov", "pressed", "complete", "Telegram", f"task {ivans}") in [
        row[1:] for row in log
    ]
    assert ("Oleg Sidorov", "notified", "reminder", "Telegram", f"task {olegs}") in [
        row[1:] for row in log
    ]
    assert not any(row[1] == "Oleg Sidorov" and row[2] == "pressed" for row in log)


async def test_report_mistakes_and_non_admins_get_an_answer_and_no_file(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    ivan = await link(service, tg, demo.ivan, "Ivan")

    refused = await answered(tg, anna, "/report 400d", "“400d” is not a period")
    assert "For example: /report week" in refused.text
    unknown = await answered(tg, anna, '/export week "Sales C"',
                             "No group “Sales C”. Did you mean")  # fmt: skip
    assert "For example: /export week" in unknown.text
    await answered(tg, ivan, "/report", "Only amoCRM admins can use this command.")
    # Nothing pressed or sent yet in the window: said so, rather than an empty chart.
    await answered(tg, anna, "/report 1d", "Nothing was sent or pressed")
    assert not [m for m in tg.transcript(anna) if m.photo or m.document]


async def test_a_file_asked_for_in_a_group_goes_to_the_private_chat(
    service: Service, tg: TelegramEmulator, demo: DemoIds
) -> None:
    anna = await link(service, tg, demo.admin, "Anna")
    sales = tg.add_group("Sales team", members=[anna])

    await tg.send_command(anna, "config", "export", chat_id=sales)

    await says(tg, sales, "I sent amobridge-config.yaml to you in a private chat.")
    sent = await says(tg, anna, "The alert set-up")
    assert sent.document is not None
    assert not [m for m in tg.transcript(sales) if m.photo or m.document]


async def test_slack_admin_gets_the_chart_in_a_direct_message(
    service: Service, slack: SlackEmulator, tg: TelegramEmulator, amo: AmoEmulator,
    demo: DemoIds, clock: FakeClock,
) -> None:  # fmt: skip
    ivan = await link(service, tg, demo.ivan, "Ivan")
    amo.add_task("Call Acme about the renewal", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 2 * 3600, by_user=demo.maria)  # fmt: skip
    await says(tg, ivan, "Call Acme about the renewal")  # the "new task" alert
    clock.advance(3600 + 5)
    await reminded(tg, ivan, "Call Acme about the renewal")
    anna = await slack_admin(slack)

    await amo_tells(slack, anna, "report week",
                    "amobridge-report-7d.png is in your direct messages")  # fmt: skip
    shared = await slack_says(slack, slack.dm_channel(anna), "Tasks")
    [file] = shared.files
    assert slack.file(file["id"]).data.startswith(PNG)
    await amo_tells(slack, anna, "export csv people",
                    "amobridge-people-7d.csv is in your direct messages")  # fmt: skip
    sent = await slack_says(slack, slack.dm_channel(anna), "CSV (UTF-8, a header line first)")
    [file] = sent.files
    assert slack.file(file["id"]).data.decode().startswith("Person,")
    await amo_tells(slack, anna, "export fortnight", "No group “fortnight”")
