"""The admin package assembled: what the composition root asks of it."""

from __future__ import annotations

from bot.admin.health import HealthReport
from bot.admin.service import AdminService
from bot.alerts import ScheduledReports, Subscriptions
from bot.core import Catalogue, Clock, CrmReader
from bot.crm import Directory
from bot.people import Links, Prefs
from bot.reports import ReportService
from bot.store import Store


def build_admin(
    store: Store,
    crm: CrmReader,
    directory: Directory,
    links: Links,
    prefs: Prefs,
    subscriptions: Subscriptions,
    reports: ReportService,
    scheduled: ScheduledReports,
    clock: Clock,
    t: Catalogue,
) -> AdminService:
    health = HealthReport(store, crm, directory, links, clock, t)
    return AdminService(
        directory, subscriptions, store, clock, t, health, reports, prefs, scheduled
    )
