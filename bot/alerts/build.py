"""The alerts package assembled: what the composition root asks of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.alerts.chats import ChatGuard
from bot.alerts.control import ControlTasks
from bot.alerts.digests import DigestService
from bot.alerts.scans import DealScans
from bot.alerts.scheduled import ScheduledReports
from bot.alerts.service import AlertService
from bot.alerts.subscriptions import Subscriptions
from bot.core import Catalogue, Clock, Crm, FailureNote
from bot.crm import Directory
from bot.delivery import Outbox
from bot.people import PeopleParts
from bot.reports import ReportService
from bot.store import Store
from bot.tasks import CardFactory, ReminderService

log = logging.getLogger("bot.alerts.control")
reports_log = logging.getLogger("bot.alerts.scheduled")


@dataclass(frozen=True, slots=True)
class AlertParts:
    subscriptions: Subscriptions
    alerts: AlertService
    digests: DigestService
    scans: DealScans
    chats: ChatGuard
    reports: ScheduledReports


def build_alerts(
    store: Store,
    crm: Crm,
    directory: Directory,
    people: PeopleParts,
    reminders: ReminderService,
    cards: CardFactory,
    outbox: Outbox,
    reports: ReportService,
    clock: Clock,
    t: Catalogue,
) -> AlertParts:
    p = people
    subscriptions = Subscriptions(store)
    digests = DigestService(
        store, p.prefs, directory, p.reach, p.held, subscriptions, reminders, outbox, clock, t
    )
    control = ControlTasks(store, crm, directory, clock, t, FailureNote(log, "control tasks"))
    alerts = AlertService(
        store, directory, p.reach, p.held, subscriptions, reminders, cards, outbox, clock, t,
        digests, control,
    )  # fmt: skip
    scans = DealScans(crm, store, directory, subscriptions, clock, alerts.deliver)
    chats = ChatGuard(subscriptions, p.links, p.prefs, directory, outbox, t)
    scheduled = ScheduledReports(
        store, subscriptions, reports, directory, p.reach, p.held, outbox, clock,
        FailureNote(reports_log, "scheduled reports"),
    )  # fmt: skip
    return AlertParts(subscriptions=subscriptions, alerts=alerts, digests=digests, scans=scans,
                      chats=chats, reports=scheduled)  # fmt: skip
