"""The use cases every messenger shares, assembled from the packages' own builders."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin import AdminService, build_admin
from bot.alerts import (
    AlertService,
    ChatGuard,
    DealScans,
    DigestService,
    ScheduledReports,
    Subscriptions,
    build_alerts,
)
from bot.chat import Conversation, build_conversation
from bot.core import Catalogue, Clock, load_catalogue
from bot.crm import CrmParts, Directory
from bot.delivery import DeliveryError, Outbox, OutboxItem
from bot.people import HeldMessages, LinkGuard, LinkingService, Links, Prefs, build_people
from bot.reports import ActivityLog, LogWeeks, build_reports
from bot.store import Store
from bot.tasks import CardFactory, ReminderService, TaskActions, build_tasks
from integrations.amocrm import AmoClient


@dataclass
class Services:
    """The use cases every messenger shares, built on amoCRM."""

    t: Catalogue
    directory: Directory
    links: Links
    prefs: Prefs
    outbox: Outbox
    cards: CardFactory
    reminders: ReminderService
    held: HeldMessages
    actions: TaskActions
    linking: LinkingService
    guard: LinkGuard
    chats: ChatGuard
    conversation: Conversation
    subscriptions: Subscriptions
    alerts: AlertService
    digests: DigestService
    scans: DealScans
    admin: AdminService
    activity: ActivityLog
    activity_weeks: LogWeeks
    scheduled_reports: ScheduledReports

    async def on_permanent_failure(self, item: OutboxItem, error: DeliveryError) -> None:
        """A messenger refused a chat for good: a person's link, or a shared chat's
        subscriptions, is paused (each guard takes only its own kind of chat)."""
        await self.guard.on_permanent_failure(item, error)
        await self.chats.on_permanent_failure(item, error)


def build_services(store: Store, crm: AmoClient, parts: CrmParts, clock: Clock) -> Services:
    """Each package builds its own services; this says only which needs which."""
    t, directory = load_catalogue(), parts.directory
    outbox = Outbox(store, clock)
    cards = CardFactory(t, directory)
    reports = build_reports(store, directory, clock, t)
    people = build_people(store, crm, directory, outbox, cards, clock, t)
    tasks = build_tasks(
        store, crm, directory, parts.processor, people, cards, outbox, reports.activity, clock, t
    )
    alerts = build_alerts(
        store,
        crm,
        directory,
        people,
        tasks.reminders,
        cards,
        outbox,
        reports.activity,
        reports.reports,
        clock,
        t,
    )
    return Services(
        t=t,
        directory=directory,
        links=people.links,
        prefs=people.prefs,
        outbox=outbox,
        cards=cards,
        reminders=tasks.reminders,
        held=people.held,
        actions=tasks.actions,
        linking=people.linking,
        guard=people.guard,
        chats=alerts.chats,
        conversation=build_conversation(
            store, directory, people, tasks, alerts.digests, cards, outbox, clock, t
        ),
        subscriptions=alerts.subscriptions,
        admin=build_admin(
            store,
            crm,
            directory,
            people.links,
            people.prefs,
            alerts.subscriptions,
            reports.reports,
            alerts.reports,
            clock,
            t,
        ),
        alerts=alerts.alerts,
        digests=alerts.digests,
        scans=alerts.scans,
        activity=reports.activity,
        activity_weeks=reports.weeks,
        scheduled_reports=alerts.reports,
    )
