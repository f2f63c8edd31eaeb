"""The chat package assembled: what the composition root asks of it."""

from __future__ import annotations

from bot.alerts import DigestService
from bot.chat.conversation import Conversation
from bot.chat.own_settings import OwnSettings
from bot.core import Catalogue, Clock
from bot.crm import Directory
from bot.delivery import Outbox
from bot.people import PeopleParts
from bot.store import Store
from bot.tasks import CardFactory, TaskParts


def build_conversation(
    store: Store,
    directory: Directory,
    people: PeopleParts,
    tasks: TaskParts,
    digests: DigestService,
    cards: CardFactory,
    outbox: Outbox,
    clock: Clock,
    t: Catalogue,
) -> Conversation:
    p = people
    return Conversation(
        store=store, directory=directory, links=p.links, prefs=p.prefs,
        own=OwnSettings(p.links, p.prefs, p.reach, p.held, digests, clock, t),
        reminders=tasks.reminders, actions=tasks.actions, cards=cards, outbox=outbox,
        clock=clock, t=t,
    )  # fmt: skip
