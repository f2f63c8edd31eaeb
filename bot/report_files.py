"""The files of ``/report`` (a PNG chart) and ``/export`` (an XLSX workbook), in the reader's
language. Pure: figures and log lines in, bytes out.

The chart is drawn on a ``Figure`` of its own with the Agg canvas, not through pyplot, whose
global figure registry is state shared by every caller.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.activity import Activity
from bot.i18n import Catalogue, Lang
from bot.reports import PersonFigures, Totals, minutes

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
    """Two sheets: the figures per person (and in all), and every logged line."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = t(lang, "xlsx_sheet_people")
    headers = ("person", "notified", "acted_on", "rate", "completed", "snoozed", "reassigned",
               "other", "median_min", "telegram", "slack")  # fmt: skip
    summary.append([t(lang, f"xlsx_{h}") for h in headers])
    for row in rows:
        summary.append([
            row.name, row.notified, row.acted_on, _rate(row.acted_on, row.notified),
            row.completed, row.snoozed, row.reassigned, row.other,
            _round_minutes(row.median_reaction_s), row.presses_telegram, row.presses_slack,
        ])  # fmt: skip
    summary.append([
        t(lang, "xlsx_total"), totals.notified, totals.acted_on,
        _rate(totals.acted_on, totals.notified), totals.completed, None, None, None,
        _round_minutes(totals.median_reaction_s),
    ])  # fmt: skip
    for cell in summary["D"][1:]:
        cell.number_format = "0%"
    log = book.create_sheet(t(lang, "xlsx_sheet_log"))
    log.append([t(lang, f"xlsx_{h}") for h in ("time", "person", "event", "what", "messenger",
                                              "subject")])  # fmt: skip
    zone = ZoneInfo(timezone)
    for entry in entries:
        kind, _, number = entry.subject.partition(":")
        log.append([
            # Excel has no time zones: the moment as the reader's clock showed it.
            datetime.fromtimestamp(entry.at, zone).replace(tzinfo=None),
            names.get(entry.person, str(entry.person)),
            t(lang, f"xlsx_event_{entry.kind}"),
            t(lang, f"activity_{entry.what}"),
            entry.channel.capitalize(),
            t(lang, f"xlsx_subject_{kind}", id=number),
        ])  # fmt: skip
    for cell in log["A"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    for sheet in (summary, log):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(sheet.iter_cols(max_row=200), start=1):
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 40)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _round_minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)
