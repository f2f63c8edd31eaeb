"""The crm package assembled: what the composition root asks of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core import Clock, Crm
from bot.crm.catchup import CacheSync, EventsPoller
from bot.crm.directory import Directory
from bot.crm.ingest import CATCH_UP_QUEUE, EventListener, EventProcessor, HintInbox
from bot.store import Store


@dataclass(frozen=True, slots=True)
class CrmParts:
    """Everything that brings amoCRM changes in, and the directory every package reads."""

    directory: Directory
    inbox: HintInbox  # what webhooks bring
    catch_up: HintInbox  # what the events poll finds
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
    catch_up = HintInbox(store, clock, CATCH_UP_QUEUE)
    processor = EventProcessor(store, crm, clock, listeners, hold_s=hold_s)
    return CrmParts(
        directory=Directory(crm, clock, base_url=base_url),
        inbox=HintInbox(store, clock),
        catch_up=catch_up,
        processor=processor,
        poller=EventsPoller(store, crm, catch_up, clock),
        sync=CacheSync(store, crm, processor, clock),
    )
