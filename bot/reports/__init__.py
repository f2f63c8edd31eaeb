"""What reached whom and what they pressed: the activity log (written by delivery and by task
actions), the figures per person, and the ``/report`` chart and ``/export`` workbook.
"""

from bot.reports.build import ReportParts, build_reports
from bot.reports.figures import figures
from bot.reports.files import chart_png, workbook_xlsx
from bot.reports.log import ActivityLog, Notice, Press
from bot.reports.service import ReportService

__all__ = [
    "ActivityLog",
    "Notice",
    "Press",
    "ReportParts",
    "ReportService",
    "build_reports",
    "chart_png",
    "figures",
    "workbook_xlsx",
]
