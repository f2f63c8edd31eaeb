"""The sheets of ``/export`` and ``amobridge export``, each defined once as a ``Table`` in the
reader's language: the figures per person, the task list with deadlines and outcomes, and every
logged line. The workbook holds all three; a CSV file holds one (``Sheet``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core import Catalogue, Lang
from bot.reports.figures import OUTCOMES, Figures, PeriodFigures, TaskRow
from bot.reports.log import Activity
from bot.reports.tables import Column, ColumnKind, Table, xlsx_bytes

__all__ = [
    "SHEETS",
    "ExportData",
    "Sheet",
    "log_table",
    "people_table",
    "tables",
    "tasks_table",
    "workbook_xlsx",
]

Sheet = Literal["tasks", "people", "log"]
SHEETS: tuple[Sheet, ...] = ("tasks", "people", "log")  # the CSV default first
WORKBOOK: tuple[Sheet, ...] = ("people", "tasks", "log")  # the summary first, the detail last


@dataclass(frozen=True, slots=True)
class ExportData:
    """What the sheets are made of: a period's figures (with its tasks) and log lines."""

    period: PeriodFigures
    entries: Sequence[Activity]
    names: Mapping[int, str]


def tables(data: ExportData, timezone: str, t: Catalogue, lang: Lang) -> dict[Sheet, Table]:
    """Every sheet of the export, by name."""
    return {
        "people": people_table(data.period.people, data.period.whole, t, lang),
        "tasks": tasks_table(data.period.tasks, timezone, t, lang),
        "log": log_table(data.entries, data.names, timezone, t, lang),
    }


def workbook_xlsx(data: ExportData, timezone: str, t: Catalogue, lang: Lang) -> bytes:
    """The workbook of ``/export``: every sheet."""
    made = tables(data, timezone, t, lang)
    return xlsx_bytes([made[sheet] for sheet in WORKBOOK])


def _columns(
    t: Catalogue, lang: Lang, spec: Sequence[tuple[str, ColumnKind]], prefix: str = "xlsx_"
) -> tuple[Column, ...]:
    return tuple(Column(t(lang, f"{prefix}{key}"), kind) for key, kind in spec)


def people_table(rows: Sequence[Figures], whole: Figures, t: Catalogue, lang: Lang) -> Table:
    """The figures per person (``bot.reports.figures`` defines each), and a last line for
    everyone in scope."""
    columns = _columns(t, lang, (
        ("person", "text"), ("due", "count"), ("on_time", "count"), ("rate", "share"),
        ("after_snooze", "count"), ("late_median_min", "number"), ("overdue_now", "count"),
        ("median_min", "number"), ("completed", "count"), ("handed_over", "count"),
        ("snoozed_open", "count"), ("no_reaction", "count"), ("escalations", "count"),
    ))  # fmt: skip
    lines = [[
        f.name, f.due, f.on_time, _share(f.on_time_share), f.on_time_after_snooze,
        _minutes(f.late_median_s), f.overdue_now, _minutes(f.reaction_median_s), f.completed,
        f.handed_over, f.snoozed_open, f.no_reaction, f.escalations,
    ] for f in (*rows, whole.model_copy(update={"name": t(lang, "xlsx_total")}))]  # fmt: skip
    return Table(t(lang, "xlsx_sheet_people"), columns, lines)


def tasks_table(rows: Sequence[TaskRow], timezone: str, t: Catalogue, lang: Lang) -> Table:
    """Each task once, with its deadlines (first: as it stood when first reminded) and what
    became of it (``bot.reports.figures`` defines each field)."""
    columns = _columns(t, lang, (
        ("id", "count"), ("deal", "count"), ("owner", "text"), ("holder", "text"),
        ("text", "text"), ("deadline_first", "moment"), ("deadline_final", "moment"),
        ("completed_at", "moment"), ("outcome", "text"), ("on_time", "text"),
        ("lateness_min", "number"), ("snoozes", "count"), ("first_notice", "moment"),
        ("reaction_min", "number"), ("escalations", "count"),
    ), prefix="xlsx_task_")  # fmt: skip
    zone = ZoneInfo(timezone)
    outcomes = {key: t(lang, f"xlsx_outcome_{key}") for key in OUTCOMES}
    yes, no = t(lang, "xlsx_yes"), t(lang, "xlsx_no")
    lines = [[
        row.task_id, row.deal_id, row.responsible, row.holder, row.text,
        _moment(row.deadline_first, zone), _moment(row.deadline_final, zone),
        _moment(row.completed_at, zone), outcomes[row.outcome],
        None if row.completed_at is None else (yes if row.on_time else no),
        _minutes(row.lateness_s), row.snoozes, _moment(row.first_notice_at, zone),
        _minutes(row.reaction_s), row.escalations,
    ] for row in rows]  # fmt: skip
    return Table(t(lang, "xlsx_sheet_tasks"), columns, lines)


def log_table(
    entries: Sequence[Activity], names: Mapping[int, str], timezone: str, t: Catalogue, lang: Lang
) -> Table:
    """Every logged line, oldest first, its moment on the reader's clock."""
    columns = _columns(t, lang, (
        ("time", "moment"), ("person", "text"), ("event", "text"), ("what", "text"),
        ("messenger", "text"), ("subject", "text"),
    ))  # fmt: skip
    zone = ZoneInfo(timezone)
    said: dict[str, str] = {}  # the same few words on every line: looked up once

    def word(key: str) -> str:
        if key not in said:
            said[key] = t(lang, key)
        return said[key]

    lines = [[
        _moment(entry.at, zone),
        names.get(entry.person, str(entry.person)),
        word(f"xlsx_event_{entry.kind}"),
        word(f"activity_{entry.what}"),
        (entry.channel or "").capitalize(),
        _subject(entry.subject, t, lang),
    ] for entry in entries]  # fmt: skip
    return Table(t(lang, "xlsx_sheet_log"), columns, lines)


def _moment(at: float | None, zone: ZoneInfo) -> datetime | None:
    """Unix seconds as the reader's wall clock, to the second (Excel has no time zones, and
    keeps no microseconds a CSV could disagree with)."""
    if at is None:
        return None
    return datetime.fromtimestamp(round(at), zone).replace(tzinfo=None)


def _subject(subject: str, t: Catalogue, lang: Lang) -> str:
    kind, _, number = subject.partition(":")  # "task:12" -> "task 12"
    return t(lang, f"xlsx_subject_{kind}", id=number)


def _share(share: float | None) -> float | None:
    # Four places: a tenth of a percent shown, and the CSV's 0.7059 reads as the workbook's.
    return None if share is None else round(share, 4)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)
