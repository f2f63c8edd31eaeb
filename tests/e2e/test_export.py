"""Exports as an admin gets them: ``/export`` in a chat (a workbook, or one sheet as CSV) and
``amobridge export`` on the command line (a real process reading the store the running service
fills, and the same amoCRM account), which writes the same rows as the workbook."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, answered, buttons, clock_at, link, says, shows
from tests.e2e.test_cli import amobridge, env_for

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def clock() -> FakeClock:
    """Two days ago at 10:00 in the account's timezone: what the service logs is in the past
    of the command line's own clock (the system's), and well inside its week."""
    today = datetime.now(MOSCOW).replace(hour=10, minute=0, second=0, microsecond=0)
    return clock_at(today - timedelta(days=2))


def read_back(text: str, like: object) -> object:
    """A CSV field parsed as the workbook's cell is typed (Excel keeps 1.0 as 1)."""
    if text == "":
        return None
    if isinstance(like, datetime):
        return datetime.fromisoformat(text)
    if isinstance(like, int | float):
        return float(text)
    return text


async def test_the_command_line_csv_matches_the_workbook_row_for_row(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock,
    store_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    anna = await link(service, tg, demo.admin, "Anna")
    ivan = await link(service, tg, demo.ivan, "Ivan")
    amo.add_task("Call Acme about the renewal", responsible_user_id=demo.ivan,
                 complete_till=int(clock.now()) + 2 * 3600, by_user=demo.maria)  # fmt: skip
    card = await says(tg, ivan, "Call Acme about the renewal")  # the "new task" alert
    clock.advance(5 * 60)
    await tg.press_button(ivan, ivan, card.message_id, buttons(card)["✔ Complete"])
    await shows(tg, ivan, "Completed by Ivan Petrov")

    chat = await answered(tg, anna, "/export week", "The figures per person, the tasks and")
    assert chat.document is not None
    book = load_workbook(io.BytesIO(chat.document.data))
    env = env_for(amo, tmp_path, AMOBRIDGE_STORE_URL=store_url)
    for sheet, title in (("people", "People"), ("log", "Log"), ("tasks", "Tasks")):
        code, out, err = await amobridge(
            "export", "--period", "week", "--format", "csv", "--sheet", sheet, "--lang", "en",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        from_csv = list(csv.reader(io.StringIO(out)))
        from_book = list(book[title].iter_rows(values_only=True))
        assert len(from_csv) == len(from_book), sheet
        for line, row in zip(from_csv, from_book, strict=True):
            assert [read_back(t, v) for t, v in zip(line, row, strict=True)] == list(row), sheet
        if sheet == "log":
            assert ["Ivan Petrov", "pressed", "complete", "Telegram"] in [r[1:5] for r in from_csv]
        if sheet == "tasks":
            [task] = [dict(zip(from_csv[0], r, strict=True)) for r in from_csv[1:]]
            assert task["Task text"] == "Call Acme about the renewal"
            assert (task["Outcome"], task["On time"]) == ("completed", "yes")

    # In the chat, one sheet as a CSV file.
    await tg.send_command(anna, "export", "csv log")
    sent = await says(tg, anna, "CSV (UTF-8, a header line first)")
    assert sent.document is not None
    assert sent.document.file_name == "amobridge-log-7d.csv"
    rows = list(csv.reader(io.StringIO(sent.document.data.decode("utf-8"))))
    assert rows[0] == ["Time", "Person", "Event", "What", "Messenger", "About"]
    assert len(rows) == book["Log"].max_row


async def test_the_command_line_says_what_to_fix_without_a_traceback(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path)  # a SQLite file `run` never made
    code, out, err = await amobridge("export", "--format", "csv", env=env, cwd=tmp_path)
    assert code == 2
    assert f"no SQLite store at {tmp_path}/cli.db" in err
    assert not (tmp_path / "cli.db").exists()  # and none left behind
    assert out == ""

    code, _, err = await amobridge("export", "--period", "fortnight", env=env, cwd=tmp_path)
    assert code == 2
    assert "“fortnight” is not a period" in err

    (tmp_path / "cli.db").touch()  # an empty store: headers only, and a clear word on a group
    code, out, err = await amobridge("export", "-f", "csv", "-s", "people", "-g", "Sales C",
                                     env=env, cwd=tmp_path)  # fmt: skip
    assert code == 2
    assert "no group “Sales C” in amoCRM; its groups: “Отдел продаж”, “Sales A”, “Sales B”" in err
    code, out, err = await amobridge("export", "-f", "csv", "-s", "people", "-g", "sales a",
                                     "--lang", "en", env=env, cwd=tmp_path)  # fmt: skip
    assert code == 0, err
    assert list(csv.reader(io.StringIO(out)))[-1][0] == "Everyone"

    # To a file, in the token user's language by default (the seeded admin speaks Russian).
    code, _, err = await amobridge(
        "export", "--period", "7d", "--format", "xlsx", "--out", "report.xlsx",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    written = load_workbook(tmp_path / "report.xlsx")
    assert written.sheetnames == ["Сотрудники", "Задачи", "Журнал"]
    assert [c.value for c in written["Журнал"][1]][:2] == ["Время", "Сотрудник"]

    amo.revoke_tokens()
    code, _, err = await amobridge("export", "-f", "csv", env=env, cwd=tmp_path)
    assert code == 1
    assert err.startswith("export: amoCRM:")
    assert "Traceback" not in err
