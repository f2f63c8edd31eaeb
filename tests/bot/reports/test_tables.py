"""The export's sheets, defined once and written two ways: what a reader opening the workbook
or parsing the CSV finds (types, formats, frozen header, widths; UTF-8 and a header line)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.core import load_catalogue
from bot.reports import Column, Table, csv_bytes, xlsx_bytes
from bot.reports.figures import TaskRow
from bot.reports.sheets import tasks_table

T = load_catalogue()
MOSCOW = ZoneInfo("Europe/Moscow")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=MOSCOW).timestamp()
HOUR = 3600.0


def task(task_id: int, **changes: object) -> TaskRow:
    fields: dict[str, object] = dict(
        task_id=task_id, deal_id=7, responsible_id=1, responsible="Иван Петров", holder_id=1,
        holder="Иван Петров", text="Позвонить, уточнить", deadline_first=NOON,
        deadline_final=NOON, completed_at=None, outcome="open", lateness_s=None, snoozes=0,
        first_notice_at=NOON - HOUR, first_action_at=None, reaction_s=None, escalations=0,
    )  # fmt: skip
    fields.update(changes)
    return TaskRow(**fields)  # type: ignore[arg-type]


def test_a_table_reads_back_the_same_from_the_workbook_and_the_csv() -> None:
    table = Table(
        "Sheet",
        (
            Column("Name"),
            Column("Count", "count"),
            Column("Minutes", "number"),
            Column("Share", "share"),
            Column("When", "moment"),
        ),
        [
            ["007", 3, 4.5, 0.25, datetime(2026, 12, 1, 9, 30, 5)],
            ['Анна "Sales, A"', 0, None, None, None],  # quotes, comma, Cyrillic, empty cells
        ],
    )
    book = load_workbook(io.BytesIO(xlsx_bytes([table])))
    sheet = book["Sheet"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert sheet["D2"].number_format == "0%"
    assert sheet["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions["B"].width >= len("Count")
    in_book = list(sheet.iter_rows(values_only=True))
    # "007" stays text: the column says so, whatever the value looks like.
    assert in_book[1] == ("007", 3, 4.5, 0.25, datetime(2026, 12, 1, 9, 30, 5))
    assert in_book[2] == ('Анна "Sales, A"', 0, None, None, None)

    data = csv_bytes(table)
    assert data.startswith(b"Name,Count")  # no byte-order mark, a header line
    in_csv = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert in_csv == [
        ["Name", "Count", "Minutes", "Share", "When"],
        ["007", "3", "4.5", "0.25", "2026-12-01 09:30:05"],
        ['Анна "Sales, A"', "0", "", "", ""],
    ]


def test_the_task_sheet_gives_each_task_its_deadlines_and_outcome_in_the_readers_words() -> None:
    rows = [
        task(
            1,
            completed_at=NOON - 600,
            outcome="completed",
            first_action_at=NOON - 600,
            reaction_s=HOUR - 600,
        ),
        task(
            2,
            completed_at=NOON + 2 * HOUR,
            deadline_final=NOON + 3 * HOUR,
            snoozes=2,
            outcome="completed",
            lateness_s=2 * HOUR,
        ),
        task(3, holder_id=2, holder="Олег Сидоров", outcome="handed_over", deal_id=None),
        task(4, deadline_first=None, deadline_final=None, first_notice_at=None),
    ]
    table = tasks_table(rows, "Europe/Moscow", T, "ru")
    assert table.name == "Задачи"
    lines = list(csv.reader(io.StringIO(csv_bytes(table).decode("utf-8"))))
    header = lines[0]
    assert header[:4] == ["Задача", "Сделка", "Ответственный (при первом напоминании)",
                          "Ответственный сейчас"]  # fmt: skip
    by_id = {line[0]: dict(zip(header, line, strict=True)) for line in lines[1:]}
    on_time, late, handed, undated = by_id["1"], by_id["2"], by_id["3"], by_id["4"]
    assert on_time["Срок (при первом напоминании)"] == "2026-12-01 12:00:00"  # Moscow time
    assert on_time["Итог"] == "закрыта"
    assert on_time["В срок"] == "да"
    assert on_time["Реакция, мин"] == "50.0"
    assert late["В срок"] == "нет"
    assert late["Опоздание, мин"] == "120.0"
    assert late["Откладывали, раз"] == "2"
    assert late["Срок (последний)"] == "2026-12-01 15:00:00"
    assert handed["Итог"] == "передана"
    assert handed["Ответственный сейчас"] == "Олег Сидоров"
    assert handed["Сделка"] == ""
    assert handed["В срок"] == ""  # not completed: neither yes nor no
    assert undated["Срок (при первом напоминании)"] == ""
    assert undated["Итог"] == "открыта"

    book = load_workbook(io.BytesIO(xlsx_bytes([tasks_table(rows, "Europe/Moscow", T, "en")])))
    sheet = book["Tasks"]
    first = [cell.value for cell in sheet[2]]
    assert first[0] == 1
    assert first[5] == datetime(2026, 12, 1, 12, 0)  # a real date cell, not text
    assert first[8] == "completed"


def test_a_table_longer_than_a_sheet_keeps_its_latest_rows_in_the_workbook() -> None:
    table = Table("Log", (Column("n", "count"),), [[n] for n in range(5)])
    sheet = load_workbook(io.BytesIO(xlsx_bytes([table], max_rows=2)))["Log"]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["n", 3, 4]
    assert csv_bytes(table).decode().split() == ["n", "0", "1", "2", "3", "4"]  # CSV: all
