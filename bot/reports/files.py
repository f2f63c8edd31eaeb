"""The files of ``/report`` (a PNG chart) and ``/export`` (an XLSX workbook), in the reader's
language. Pure: figures and log lines in, bytes out.

The chart is drawn on a ``Figure`` of its own with the Agg canvas, not through pyplot, whose
global figure registry is state shared by every caller.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.core import Catalogue, Lang
from bot.reports.figures import PersonFigures, Totals, minutes
from bot.reports.log import Activity

CHART_PEOPLE = 20  # the most notified; the workbook has everyone
# What a person's bar is made of, in order, with its colour.
SEGMENTS = (
    ("completed", "#2e7d32"),
    ("snoozed", "#f9a825"),
    ("reassigned", "#1565c0"),
    ("other", "#6a1b9a"),
    ("unanswered", "#bdbdbd"),
)
REACTION_COLOUR = "#00838f"


def chart_png(rows: Sequence[PersonFigures], title: str, t: Catalogue, lang: Lang) -> bytes:
    """Horizontal bars per person: what they did with what they were told about, and how
    many minutes their median reaction took."""
    shown = list(rows[:CHART_PEOPLE])[::-1]  # barh draws bottom-up: the first row on top
    height = 1.9 + 0.42 * max(len(shown), 1)
    figure = Figure(figsize=(11, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=(3, 1))
    names = [row.name for row in shown]
    start = [0.0] * len(shown)
    for segment, colour in SEGMENTS:
        values = [float(getattr(row, segment)) for row in shown]
        left.barh(names, values, left=start, color=colour,
                  label=t(lang, f"chart_{segment}"))  # fmt: skip
        start = [a + b for a, b in zip(start, values, strict=True)]
    left.set_xlabel(t(lang, "chart_axis_count"))
    # Below the plots, never over a bar.
    figure.legend(loc="outside lower center", fontsize="small", ncols=len(SEGMENTS))
    left.grid(axis="x", alpha=0.3)
    reaction = [(row.median_reaction_s or 0.0) / 60 for row in shown]
    bars = right.barh(names, reaction, color=REACTION_COLOUR)
    labels = ["—" if r.median_reaction_s is None else minutes(r.median_reaction_s) for r in shown]
    right.bar_label(bars, labels=labels, padding=3, fontsize="small")
    right.set_xlabel(t(lang, "chart_axis_minutes"))
    right.set_xlim(0, max([*reaction, 1.0]) * 1.3)
    right.grid(axis="x", alpha=0.3)
    figure.suptitle(title)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def workbook_xlsx(
    rows: Sequence[PersonFigures],
    totals: Totals,
    entries: Sequence[Activity],
    names: Mapping[int, str],
    timezone: str,
    t: Catalogue,
    lang: Lang,
) -> bytes:
    """Two sheets: the figures per person (and in all), and every logged line.

    Written in openpyxl's write-only mode: rows stream to the file instead of living as cell
    objects, which halves the time of a month's log and keeps memory flat."""
    book = Workbook(write_only=True)
    headers = ("person", "notified", "acted_on", "rate", "completed", "snoozed", "reassigned",
               "other", "median_min", "telegram", "slack")  # fmt: skip
    people: list[list[object]] = [[
        row.name, row.notified, row.acted_on, _rate(row.acted_on, row.notified),
        row.completed, row.snoozed, row.reassigned, row.other,
        _round_minutes(row.median_reaction_s), row.presses_telegram, row.presses_slack,
    ] for row in rows]  # fmt: skip
    people.append([
        t(lang, "xlsx_total"), totals.notified, totals.acted_on,
        _rate(totals.acted_on, totals.notified), totals.completed, None, None, None,
        _round_minutes(totals.median_reaction_s), None, None,
    ])  # fmt: skip
    summary = _sheet(book, t(lang, "xlsx_sheet_people"), [t(lang, f"xlsx_{h}") for h in headers],
                     people[:200])  # fmt: skip
    for line in people:
        line[3] = _cell(summary, line[3], "0%")
        summary.append(line)
    zone = ZoneInfo(timezone)
    said: dict[str, str] = {}  # the same few words on every line: looked up once

    def word(key: str) -> str:
        if key not in said:
            said[key] = t(lang, key)
        return said[key]

    logged = [[
        # Excel has no time zones: the moment as the reader's clock showed it.
        datetime.fromtimestamp(entry.at, zone).replace(tzinfo=None),
        names.get(entry.person, str(entry.person)),
        word(f"xlsx_event_{entry.kind}"),
        word(f"activity_{entry.what}"),
        (entry.channel or "").capitalize(),
        _subject(entry.subject, t, lang),
    ] for entry in entries]  # fmt: skip
    log_headers = [t(lang, f"xlsx_{h}") for h in ("time", "person", "event", "what", "messenger",
                                                  "subject")]  # fmt: skip
    log = _sheet(book, t(lang, "xlsx_sheet_log"), log_headers, logged[:200])
    for line in logged:
        # Excel's own format for a datetime would show seconds nobody needs.
        line[0] = _cell(log, line[0], "yyyy-mm-dd hh:mm")
        log.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Workbook, title: str, headers: list[str], sample: list[list[object]]) -> Any:
    """A write-only sheet with its bold, frozen header row, columns as wide as ``sample``
    needs (column settings must come before the first row)."""
    sheet = book.create_sheet(title)
    for index, header in enumerate(headers):
        width = max([len(header), *(len(str(r[index])) for r in sample if r[index] is not None)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(width + 2, 8), 40)
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, h, bold=True) for h in headers])
    return sheet


def _cell(sheet: Any, value: Any, number_format: str | None = None, *, bold: bool = False) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _subject(subject: str, t: Catalogue, lang: Lang) -> str:
    kind, _, number = subject.partition(":")  # "task:12" -> "task 12"
    return t(lang, f"xlsx_subject_{kind}", id=number)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _round_minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)
