"""The reports package assembled: what the composition root asks of it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import Catalogue, Clock
from bot.crm import Directory
from bot.reports.log import ActivityLog
from bot.reports.service import ReportService
from bot.reports.weeks import LogWeeks
from bot.store import Store


@dataclass(frozen=True, slots=True)
class ReportParts:
    activity: ActivityLog  # written by delivery and task actions
    weeks: LogWeeks  # its closed weeks rolled up, by a job
    reports: ReportService


def build_reports(store: Store, directory: Directory, clock: Clock, t: Catalogue) -> ReportParts:
    activity, weeks = ActivityLog(store, clock), LogWeeks(store, clock)
    reports = ReportService(activity, weeks, directory, clock, t)
    return ReportParts(activity=activity, weeks=weeks, reports=reports)
