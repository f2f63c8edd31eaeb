"""The reports package assembled: what the composition root asks of it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import Catalogue, Clock
from bot.crm import Directory
from bot.reports.log import ActivityLog
from bot.reports.service import ReportService
from bot.store import Store


@dataclass(frozen=True, slots=True)
class ReportParts:
    activity: ActivityLog  # written by delivery and task actions
    reports: ReportService


def build_reports(store: Store, directory: Directory, clock: Clock, t: Catalogue) -> ReportParts:
    activity = ActivityLog(store, clock)
    return ReportParts(activity=activity, reports=ReportService(activity, directory, clock, t))
