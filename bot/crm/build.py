"""The crm package assembled: what the composition root asks of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core import Clock, Crm
from bot.crm.catchup import CacheSync, EventsPoller
from bot.crm.directory import Directory
from bot.crm.ingest import EventListener, EventProcessor, HintInbox
from bot.store import Store


@dataclass(frozen=True, slots=True)
class CrmParts:
    """Everything that brings amoCRM changes in, and the directory every package reads."""

    directory: Directory
    inbox: HintInbox
    processor: EventProcessor
    poller: EventsPoller
    sync: CacheSync


def build_crm(
    store: Store,
    crm: Crm,
    clock: Clock,
    *,
    base_url: str,
    listeners: Mapping[str, EventListener],
    hold_s: float,
) -> CrmParts:
    inbox = HintInbox(store, clock)
    processor = EventProcessor(store, crm, clock, listeners, hold_s=hold_s)
    return CrmParts(
        directory=Directory(crm, clock, base_url=base_url),
        inbox=inbox,
        processor=processor,
        poller=EventsPoller(store, crm, inbox, clock),
        sync=CacheSync(store, crm, processor, clock),
    )
