"""The tasks package assembled: what the composition root asks of it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import Catalogue, Clock, Crm
from bot.crm import Directory, EventProcessor
from bot.delivery import Outbox
from bot.people import PeopleParts
from bot.reports import ActivityLog
from bot.store import Store
from bot.tasks.actions import TaskActions
from bot.tasks.cards import CardFactory
from bot.tasks.elsewhere import OtherMessenger
from bot.tasks.reminders import ReminderService


@dataclass(frozen=True, slots=True)
class TaskParts:
    reminders: ReminderService
    actions: TaskActions


def build_tasks(
    store: Store,
    crm: Crm,
    directory: Directory,
    processor: EventProcessor,
    people: PeopleParts,
    cards: CardFactory,
    outbox: Outbox,
    activity: ActivityLog,
    clock: Clock,
    t: Catalogue,
) -> TaskParts:
    p = people
    elsewhere = OtherMessenger(
        store, directory, p.links, p.prefs, p.reach, p.held, cards, activity, clock, t
    )
    return TaskParts(
        reminders=ReminderService(
            store, directory, p.links, p.prefs, p.reach, p.held, cards, outbox, clock, elsewhere
        ),
        actions=TaskActions(store, crm, directory, processor, clock, t, activity, p.links, outbox),
    )
