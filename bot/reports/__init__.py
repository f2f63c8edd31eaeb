"""What reached whom, what they pressed and what became of each task: the activity log
(written by delivery, task actions, escalations and, as an ``EventProcessor`` listener, by every
change of a task), the task figures per person, group and account, and the ``/report`` chart and
``/export`` workbook.
"""

from bot.reports.build import ReportParts, build_reports
from bot.reports.figures import Figures, Gathered, Outcome, PeriodFigures, TaskRow, figures, gather
from bot.reports.files import chart_png, duration, workbook_xlsx
from bot.reports.log import Activity, ActivityLog, Fact, Notice, Press, parse_facts
from bot.reports.service import ReportService, day_ends

__all__ = [
    "Activity",
    "ActivityLog",
    "Fact",
    "Figures",
    "Gathered",
    "Notice",
    "Outcome",
    "PeriodFigures",
    "Press",
    "ReportParts",
    "ReportService",
    "TaskRow",
    "build_reports",
    "chart_png",
    "day_ends",
    "duration",
    "figures",
    "gather",
    "parse_facts",
    "workbook_xlsx",
]
