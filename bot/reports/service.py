"""``/report`` and ``/export``: the activity log over a period, for everyone or one group, as a
chart with a caption, as a workbook (every sheet) or as a CSV file (one sheet)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core import Catalogue, Clock, Group, Lang, Reader, Reply, ReplyFile, Value
from bot.crm import Directory
from bot.reports.figures import PersonFigures, TaskRow, Totals, figures, minutes
from bot.reports.files import chart_png
from bot.reports.log import Activity, ActivityLog
from bot.reports.sheets import ExportData, Sheet, tables, workbook_xlsx
from bot.reports.tables import MAX_XLSX_ROWS, csv_bytes

ExportFormat = Literal["xlsx", "csv"]


class Scope(Value):
    since: float
    until: float
    period: str  # "26.11.2026 – 03.12.2026"
    group: str  # " · Sales A", or ""
    people: frozenset[int] | None  # None: everyone


@dataclass(frozen=True, slots=True)
class _Period:
    """What ``/report`` and ``/export`` both start from: the period's lines and their figures."""

    scope: Scope
    entries: list[Activity]
    names: dict[int, str]
    rows: tuple[PersonFigures, ...]
    totals: Totals
    # One row per task: ``figures`` gives them from the log's task lines once it has them.
    tasks: tuple[TaskRow, ...] = ()


class ExportFile(Value):
    """An export as ``amobridge export`` writes it: the file, and what it covers."""

    name: str
    content: bytes
    period: str  # "26.11.2026 – 03.12.2026"
    group: str  # " · Sales A", or ""
    lines: int  # log lines read
    log_cut: bool = False  # the workbook's log sheet keeps only the latest lines


@dataclass(frozen=True, slots=True, eq=False)
class ReportService:
    _activity: ActivityLog
    _directory: Directory
    _clock: Clock
    _t: Catalogue

    async def chart(self, reader: Reader, days: int, group: Group | None) -> Reply:
        lang = reader.lang
        read = await self._period(reader, days, group)
        if isinstance(read, Reply):
            return read
        scope = read.scope
        title = self._t(lang, "chart_title", period=scope.period, group=scope.group)
        content = await asyncio.to_thread(chart_png, read.rows, title, self._t, lang)
        png = ReplyFile(name=f"amobridge-report-{days}d.png", content=content, photo=True)
        return Reply(text=self._caption(lang, scope, read.totals), file=png)

    async def export(
        self, reader: Reader, days: int, group: Group | None, *,
        fmt: ExportFormat = "xlsx", sheet: Sheet = "tasks",
    ) -> Reply:  # fmt: skip
        """``/export``: the file, or the answer that the period holds nothing."""
        read = await self._period(reader, days, group)
        if isinstance(read, Reply):
            return read
        made = await self._file(reader, days, read, fmt, sheet)
        text = self._t(reader.lang, f"export_done_{fmt}", period=made.period, group=made.group,
                       lines=made.lines)  # fmt: skip
        if made.log_cut:
            text += "\n" + self._t(reader.lang, "export_log_cut", kept=MAX_XLSX_ROWS)
        return Reply(text=text, file=ReplyFile(name=made.name, content=made.content))

    async def export_file(
        self, reader: Reader, days: int, group: Group | None, *,
        fmt: ExportFormat = "xlsx", sheet: Sheet = "tasks",
    ) -> ExportFile:  # fmt: skip
        """``amobridge export``: the file even for a quiet period (its header lines), which
        a script reading it expects rather than nothing."""
        scope = await self._scope(reader, days, group)
        entries, names = await self._read(scope)
        rows, totals = await asyncio.to_thread(figures, entries, names)
        read = _Period(scope=scope, entries=entries, names=names, rows=rows, totals=totals)
        return await self._file(reader, days, read, fmt, sheet)

    async def _file(
        self, reader: Reader, days: int, read: _Period, fmt: ExportFormat, sheet: Sheet
    ) -> ExportFile:
        # Building a year's rows and writing them is CPU work: off the event loop.
        content = await asyncio.to_thread(self._write, reader, read, fmt, sheet)
        name = f"amobridge-activity-{days}d.xlsx" if fmt == "xlsx" else (
            f"amobridge-{sheet}-{days}d.csv"
        )  # fmt: skip
        return ExportFile(name=name, content=content, period=read.scope.period,
                          group=read.scope.group, lines=len(read.entries),
                          log_cut=fmt == "xlsx" and len(read.entries) > MAX_XLSX_ROWS)  # fmt: skip

    def _write(self, reader: Reader, read: _Period, fmt: ExportFormat, sheet: Sheet) -> bytes:
        data = ExportData(rows=read.rows, totals=read.totals, tasks=read.tasks,
                          entries=read.entries, names=read.names)  # fmt: skip
        if fmt == "csv":
            return csv_bytes(tables(data, reader.timezone, self._t, reader.lang)[sheet])
        return workbook_xlsx(data, reader.timezone, self._t, reader.lang)

    async def _period(self, reader: Reader, days: int, group: Group | None) -> _Period | Reply:
        """The period's lines and figures, or the answer that it holds nothing."""
        scope = await self._scope(reader, days, group)
        entries, names = await self._read(scope)
        if not entries:
            nothing = self._t(
                reader.lang, "report_nothing", period=scope.period, group=scope.group
            )
            return Reply(text=nothing)
        # Counting and drawing are CPU work: off the event loop (see ActivityLog.between).
        rows, totals = await asyncio.to_thread(figures, entries, names)
        return _Period(scope=scope, entries=entries, names=names, rows=rows, totals=totals)

    async def _scope(self, reader: Reader, days: int, group: Group | None) -> Scope:
        until = self._clock.now()
        since = until - days * 86400
        zone = ZoneInfo(reader.timezone)
        period = self._t(
            reader.lang, "report_period",
            since=datetime.fromtimestamp(since, zone).strftime("%d.%m.%Y"),
            until=datetime.fromtimestamp(until, zone).strftime("%d.%m.%Y"),
        )  # fmt: skip
        if group is None:
            return Scope(since=since, until=until, period=period, group="", people=None)
        users = await self._directory.active_users()
        return Scope(
            since=since, until=until, period=period, group=" · " + group.name,
            people=frozenset(u.id for u in users if u.group_id == group.id),
        )  # fmt: skip

    async def _read(self, scope: Scope) -> tuple[list[Activity], dict[int, str]]:
        """The period's lines (the group's people only, for a group) and their names."""
        entries = await self._activity.between(scope.since, scope.until)
        if scope.people is not None:
            entries = [e for e in entries if e.person in scope.people]
        names: dict[int, str] = {}
        for person in {e.person for e in entries}:
            user = await self._directory.user(person)
            names[person] = user.name if user else f"#{person}"
        return entries, names

    def _duration(self, lang: Lang, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        if seconds < 60:  # "0.2 min" reads worse than "12 s"
            return self._t(lang, "seconds_short", n=round(seconds))
        return self._t(lang, "minutes_short", n=minutes(seconds))

    def _caption(self, lang: Lang, scope: Scope, totals: Totals) -> str:
        rate = totals.reaction_rate
        median = totals.median_reaction_s
        return self._t(
            lang, "report_caption", period=scope.period, group=scope.group,
            notified=totals.notified, people=totals.people,
            rate="—" if rate is None else f"{rate:.0%}",
            median=self._duration(lang, median),
            completed=totals.completed, presses=totals.presses,
        )  # fmt: skip
