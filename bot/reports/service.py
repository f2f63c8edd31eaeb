"""``/report`` and ``/export``: the activity log over a period, for everyone or one group, as a
chart with a caption, as a workbook (every sheet) or as a CSV file (one sheet). The figures
are compared with the period just before (the week before, for a weekly report)."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core import Catalogue, Clock, Group, Lang, Reader, Reply, ReplyFile, Value
from bot.crm import Directory
from bot.reports.figures import Figures, Gathered, PeriodFigures, figures
from bot.reports.files import chart_png, duration
from bot.reports.log import Activity, ActivityLog
from bot.reports.sheets import ExportData, Sheet, tables, workbook_xlsx
from bot.reports.tables import MAX_XLSX_ROWS, csv_bytes
from bot.reports.weeks import LogWeeks, Piece, take

ExportFormat = Literal["xlsx", "csv"]

# A task due in the period may have been created, and first reminded, this long before it.
LOOKBACK_S = 60 * 86400


class Scope(Value):
    since: float
    until: float
    period: str  # "26.11.2026 – 03.12.2026"
    group: str  # " · Sales A", or ""
    people: frozenset[int] | None  # None: everyone
    timezone: str


@dataclass(frozen=True, slots=True)
class _Period:
    """What ``/report`` and ``/export`` both start from: the period's lines and their figures,
    and the figures of the period before."""

    scope: Scope
    names: dict[int, str]
    now: PeriodFigures
    before: PeriodFigures


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
    _weeks: LogWeeks
    _directory: Directory
    _clock: Clock
    _t: Catalogue

    async def chart(self, reader: Reader, days: int, group: Group | None) -> Reply:
        lang = reader.lang
        read = await self._period(reader, days, group, tasks=False)
        if isinstance(read, Reply):
            return read
        scope = read.scope
        title = self._t(lang, "chart_title", period=scope.period, group=scope.group)
        zone = ZoneInfo(scope.timezone)
        # A day end is midnight: labelled with the day it ends.
        labels = [
            (datetime.fromtimestamp(end, zone) - timedelta(seconds=1)).strftime("%d.%m")
            for end in read.now.day_ends
        ]
        content = await asyncio.to_thread(chart_png, read.now, title, self._t, lang, labels)
        png = ReplyFile(name=f"amobridge-report-{days}d.png", content=content, photo=True)
        return Reply(text=self.caption(lang, scope, read.now.whole, read.before.whole), file=png)

    async def export(
        self, reader: Reader, days: int, group: Group | None, *,
        fmt: ExportFormat = "xlsx", sheet: Sheet = "tasks",
    ) -> Reply:  # fmt: skip
        """``/export``: the file, or the answer that the period holds nothing."""
        read = await self._period(reader, days, group)
        if isinstance(read, Reply):
            return read
        made = await self._file(days, read, fmt, sheet, reader.lang)
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
        read = await self._period(reader, days, group, quiet=True)
        assert not isinstance(read, Reply)
        return await self._file(days, read, fmt, sheet, reader.lang)

    async def _file(
        self, days: int, read: _Period, fmt: ExportFormat, sheet: Sheet, lang: Lang
    ) -> ExportFile:
        scope = read.scope
        entries = await self._activity.between(scope.since, scope.until)
        if scope.people is not None:
            entries = [e for e in entries if e.person in scope.people]
        # Building a year's rows and writing them is CPU work: off the event loop.
        content = await asyncio.to_thread(self._write, read, entries, fmt, sheet, lang)
        name = f"amobridge-activity-{days}d.xlsx" if fmt == "xlsx" else (
            f"amobridge-{sheet}-{days}d.csv"
        )  # fmt: skip
        return ExportFile(name=name, content=content, period=scope.period, group=scope.group,
                          lines=len(entries),
                          log_cut=fmt == "xlsx" and len(entries) > MAX_XLSX_ROWS)  # fmt: skip

    def _write(
        self, read: _Period, entries: list[Activity], fmt: ExportFormat, sheet: Sheet, lang: Lang
    ) -> bytes:
        data = ExportData(period=read.now, entries=entries, names=read.names)
        zone = read.scope.timezone
        if fmt == "csv":
            return csv_bytes(tables(data, zone, self._t, lang)[sheet])
        return workbook_xlsx(data, zone, self._t, lang)

    async def _period(
        self, reader: Reader, days: int, group: Group | None, *, quiet: bool = False,
        tasks: bool = True,
    ) -> _Period | Reply:  # fmt: skip
        """The period's lines and figures, or the answer that it holds nothing (``quiet``:
        its empty figures; ``tasks``: with the task list, which the chart does without)."""
        scope = await self._scope(reader, days, group)
        length = scope.until - scope.since
        gathered, told = self._weeks.gathered(), False
        pieces = self._weeks.weeks(scope.since - length - LOOKBACK_S, scope.until)
        # A year is millions of objects, which each collection would walk holding the GIL (a
        # loop stalled 0.1 s at a time, by the rows too): no collection while the report is
        # built, and what it made kept out of the collector's sight (frozen) until it is
        # let go of, so that the collection after it does not walk it all. They hold no
        # cycles; refcounts free them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            async for piece in pieces:
                # Parsing and counting are CPU work: off the event loop, a day at a time.
                told = await asyncio.to_thread(_gather, gathered, piece, scope) or told
                gc.freeze()
            if not told and not quiet:
                nothing = self._t(
                    reader.lang, "report_nothing", period=scope.period, group=scope.group
                )
                return Reply(text=nothing)
            names = await self._names(scope, gathered.people)
            now, before = await asyncio.to_thread(_both, gathered, names, scope, length, tasks)
            gc.freeze()
        finally:
            await asyncio.to_thread(gathered.clear)
            gc.unfreeze()  # into the oldest generation, not walked until its turn
            if collecting:  # not if another report still runs
                gc.enable()
        return _Period(scope=scope, names=names, now=now, before=before)

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
            return Scope(since=since, until=until, period=period, group="", people=None,
                         timezone=reader.timezone)  # fmt: skip
        users = await self._directory.active_users()
        return Scope(
            since=since, until=until, period=period, group=" · " + group.name,
            people=frozenset(u.id for u in users if u.group_id == group.id),
            timezone=reader.timezone,
        )  # fmt: skip

    async def _names(self, scope: Scope, found: set[int]) -> dict[int, str]:
        """Everyone in scope (shown even with nothing to count) and everyone in the lines."""
        names = {u.id: u.name for u in await self._directory.active_users()
                 if scope.people is None or u.id in scope.people}  # fmt: skip
        for person in found - set(names):
            user = await self._directory.user(person)
            names[person] = user.name if user else f"#{person}"
        return names

    def caption(self, lang: Lang, scope: Scope, now: Figures, before: Figures) -> str:
        """The headline figures, each with its change on the period before."""
        share, earlier = now.on_time_share, before.on_time_share
        share_change = self._t(lang, "report_change_none")
        if share is not None and earlier is not None:
            points = round(100 * (share - earlier))
            share_change = self._change(lang, points, self._t(lang, "report_points",
                                                              n=abs(points)))  # fmt: skip
        reaction_change = self._t(lang, "report_change_none")
        if now.reaction_median_s is not None and before.reaction_median_s is not None:
            delta = now.reaction_median_s - before.reaction_median_s
            reaction_change = self._change(lang, delta, duration(abs(delta), self._t, lang))
        overdue = now.overdue_now - before.overdue_now
        return self._t(
            lang, "report_caption", period=scope.period, group=scope.group, due=now.due,
            on_time_share="—" if share is None else f"{share:.0%}", share_change=share_change,
            after_snooze=now.on_time_after_snooze,
            late_median=duration(now.late_median_s, self._t, lang),
            late_p90=duration(now.late_p90_s, self._t, lang),
            overdue=now.overdue_now, overdue_change=self._change(lang, overdue, str(abs(overdue))),
            reaction=duration(now.reaction_median_s, self._t, lang),
            reaction_p90=duration(now.reaction_p90_s, self._t, lang),
            reaction_change=reaction_change, completed=now.completed,
            handed_over=now.handed_over, snoozed_open=now.snoozed_open,
            no_reaction=now.no_reaction, escalations=now.escalations,
        )  # fmt: skip

    def _change(self, lang: Lang, delta: float, size: str) -> str:
        sign = "+" if delta > 0 else "−" if delta < 0 else "±"
        return self._t(lang, "report_change", sign=sign, change=size)


def day_ends(since: float, until: float, timezone: str) -> list[float]:
    """Each local midnight after ``since`` up to ``until``, and ``until`` itself when the
    period ends mid-day (today so far)."""
    zone = ZoneInfo(timezone)
    day = datetime.fromtimestamp(since, zone).date() + timedelta(days=1)
    ends: list[float] = []
    while (end := datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()) < until:
        ends.append(end)
        day += timedelta(days=1)
    return [*ends, until]


def _gather(gathered: Gathered, piece: Piece, scope: Scope) -> bool:
    """Add a piece of the log; whether it holds anything in the period about the scope."""
    since, people = scope.since, scope.people
    return any(
        at >= since and (people is None or person in people)
        for person, at in take(gathered, piece).items()
    )


def _both(
    gathered: Gathered, names: dict[int, str], scope: Scope, length: float, tasks: bool
) -> tuple[PeriodFigures, PeriodFigures]:
    def of(since: float, until: float) -> PeriodFigures:
        return figures(gathered, names, since=since, until=until, people=scope.people,
                       day_ends=day_ends(since, until, scope.timezone),
                       whole_name=scope.group.strip(" ·"), tasks=tasks)  # fmt: skip

    return of(scope.since, scope.until), of(scope.since - length, scope.since)
