"""What reached whom, what they pressed and what became of each task: the activity log
(written by delivery, task actions, escalations and, as an ``EventProcessor`` listener, by every
change of a task), the task figures per person, group and account, the ``/report`` chart, and
the ``/export`` sheets as a workbook or as CSV.
"""

from bot.reports.build import ReportParts, build_reports
from bot.reports.figures import (
    Figures,
    Gathered,
    Outcome,
    PeriodFigures,
    Rolled,
    TaskRow,
    figures,
    gather,
    roll_week,
)
from bot.reports.files import chart_png, duration
from bot.reports.log import (
    Activity,
    ActivityLog,
    Fact,
    Line,
    Notice,
    Press,
    decode,
    encode,
    parse_facts,
    parse_lines,
)
from bot.reports.service import ExportFile, ExportFormat, ReportService, day_ends
from bot.reports.sheets import SHEETS, ExportData, Sheet, tables, workbook_xlsx
from bot.reports.tables import Column, Table, csv_bytes, xlsx_bytes
from bot.reports.weeks import LogWeeks, Piece, take

__all__ = [
    "SHEETS",
    "Activity",
    "ActivityLog",
    "Column",
    "ExportData",
    "ExportFile",
    "ExportFormat",
    "Fact",
    "Figures",
    "Gathered",
    "Line",
    "LogWeeks",
    "Notice",
    "Outcome",
    "PeriodFigures",
    "Piece",
    "Press",
    "ReportParts",
    "ReportService",
    "Rolled",
    "Sheet",
    "Table",
    "TaskRow",
    "build_reports",
    "chart_png",
    "csv_bytes",
    "day_ends",
    "decode",
    "duration",
    "encode",
    "figures",
    "gather",
    "parse_facts",
    "parse_lines",
    "roll_week",
    "tables",
    "take",
    "workbook_xlsx",
    "xlsx_bytes",
]
