"""The people package assembled: what the composition root asks of it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import Catalogue, Clock, Crm
from bot.crm import Directory
from bot.delivery import Outbox
from bot.people.code_linking import LinkingService
from bot.people.holding import HeldMessages, TaskCards
from bot.people.links import Links
from bot.people.prefs import Prefs
from bot.people.reach import Reach
from bot.people.refusals import LinkGuard
from bot.store import Store


@dataclass(frozen=True, slots=True)
class PeopleParts:
    links: Links
    prefs: Prefs
    reach: Reach
    held: HeldMessages
    linking: LinkingService  # Telegram's code in amoCRM (Slack links by e-mail, with its API)
    guard: LinkGuard


def build_people(
    store: Store,
    crm: Crm,
    directory: Directory,
    outbox: Outbox,
    cards: TaskCards,
    clock: Clock,
    t: Catalogue,
) -> PeopleParts:
    links, prefs = Links(store), Prefs(store)
    reach = Reach(links, prefs, directory, clock)
    return PeopleParts(
        links=links,
        prefs=prefs,
        reach=reach,
        held=HeldMessages(store, outbox, reach, directory, cards, clock),
        linking=LinkingService(store, crm, directory, links, prefs, outbox, clock, t),
        guard=LinkGuard(links, prefs, reach, directory, outbox, t),
    )
