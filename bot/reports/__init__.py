"""What reached whom and what they pressed: the activity log (written by delivery and by task
actions), the figures per person, the ``/report`` chart, and the ``/export`` sheets as a
workbook or as CSV.
"""

from bot.reports.build import ReportParts, build_reports
from bot.reports.figures import figures
from bot.reports.files import chart_png
from bot.reports.log import ActivityLog, Notice, Press
from bot.reports.service import ExportFile, ExportFormat, ReportService
from bot.reports.sheets import SHEETS, ExportData, Sheet, tables, workbook_xlsx
from bot.reports.tables import Column, Table, csv_bytes, xlsx_bytes

__all__ = [
    "SHEETS",
    "ActivityLog",
    "Column",
    "ExportData",
    "ExportFile",
    "ExportFormat",
    "Notice",
    "Press",
    "ReportParts",
    "ReportService",
    "Sheet",
    "Table",
    "build_reports",
    "chart_png",
    "csv_bytes",
    "figures",
    "tables",
    "workbook_xlsx",
    "xlsx_bytes",
]
