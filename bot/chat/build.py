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
    own = OwnSettings(p.links, p.prefs, p.reach, p.held, digests, clock, t)
    # Positional, like every service: each argument has its own type, so mypy checks the order.
    return Conversation(
        store, directory, p.links, p.prefs, own, tasks.reminders, tasks.actions, cards, outbox,
        clock, t,
    )  # fmt: skip
