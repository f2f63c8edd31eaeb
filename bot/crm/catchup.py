"""The safety nets behind webhooks: the events poll (a lost webhook only delays an alert) and the
periodic sync (repairs any drift between the cache and amoCRM)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.core import AmoEvent, Clock, CrmReader, EntityHint, EntityKind, HintAction, HintSource
from bot.crm.ingest import EventProcessor, HintInbox
from bot.store import Store

log = logging.getLogger(__name__)

POLL_CURSOR = "amocrm:events"
POLLED_NS = "amocrm-polled"  # the ids of events already queued, for SEEN_TTL_S
TASK_SYNC_CURSOR = "amocrm:sync:tasks"
DEAL_SYNC_CURSOR = "amocrm:sync:deals"

# The event types amobridge acts on (amoCRM's names).
POLLED_EVENT_TYPES = (
    "lead_added",
    "lead_deleted",
    "lead_restored",
    "lead_status_changed",
    "sale_field_changed",  # a new budget: a deal that becomes big is alerted without a webhook
    "entity_responsible_changed",
    "task_added",
    "task_completed",
    "task_deleted",
    "task_deadline_changed",
    "task_text_changed",
    "task_type_changed",
    "task_result_added",
)
# Events can become visible a little after their timestamp; the overlap re-reads that margin and
# the seen-set drops the repeats.
POLL_OVERLAP_S = 120
SEEN_TTL_S = 3 * 24 * 3600
SYNC_OVERLAP_S = 120
# On the very first sync only recently changed deals are loaded; older ones are read on demand.
FIRST_DEAL_SYNC_WINDOW_S = 24 * 3600


def hint_from_event(event: AmoEvent) -> EntityHint | None:
    """The hint an amoCRM event gives, or None for entities amobridge does not follow."""
    kind: EntityKind
    if event.entity_type == "lead":
        kind = "deal"
    elif event.entity_type == "task":
        kind = "task"
    else:
        return None
    action: HintAction = "update"
    old_status_id = old_pipeline_id = old_responsible = None
    if event.type in ("lead_added", "task_added"):
        action = "add"
    elif event.type in ("lead_deleted", "task_deleted"):
        action = "delete"
    elif event.type == "task_completed":
        action = "complete"
    elif event.type == "lead_status_changed":
        action = "status"
        before = _first(event.value_before, "lead_status")
        old_status_id, old_pipeline_id = _int(before.get("id")), _int(before.get("pipeline_id"))
    elif event.type == "entity_responsible_changed":
        action = "responsible"
        old_responsible = _int(_first(event.value_before, "responsible_user").get("id"))
    return EntityHint(
        kind=kind,
        id=event.entity_id,
        source=HintSource.POLL,
        action=action,
        old_status_id=old_status_id,
        old_pipeline_id=old_pipeline_id,
        old_responsible_user_id=old_responsible,
        actor_id=event.created_by or None,
        at=event.created_at,
    )


def _first(values: list[dict[str, object]], key: str) -> dict[str, object]:
    for item in values:
        inner = item.get(key)
        if isinstance(inner, dict):
            return inner
    return {}


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True, eq=False)
class EventsPoller:
    _store: Store
    _crm: CrmReader
    _inbox: HintInbox
    _clock: Clock

    async def poll_once(self) -> int:
        """Queue a hint for every not-yet-seen event since the cursor; returns how many."""
        stored = await self._store.get_cursor(POLL_CURSOR)
        first_start = stored is None
        cursor = int(self._clock.now()) if stored is None else int(stored)
        events = await self._crm.events(
            created_since=max(0, cursor - POLL_OVERLAP_S), types=POLLED_EVENT_TYPES
        )
        fresh: list[tuple[AmoEvent, EntityHint]] = []
        newest = cursor
        for event in sorted(events, key=lambda e: e.created_at):
            newest = max(newest, event.created_at)
            hint = hint_from_event(event)
            if hint is not None and await self._store.get_doc(POLLED_NS, str(event.id)) is None:
                fresh.append((event, hint))
        if not first_start:
            # One batch, so that several events of one entity merge into one telling hint. Queued
            # before they are marked: a crash in between queues them again on the next poll,
            # which is harmless (the processor journals each change once), where marking first
            # would lose them. On the first start the overlap's events are only marked: they
            # happened before the service ran and are not news.
            await self._inbox.accept([hint for _, hint in fresh])
        for event, _ in fresh:
            await self._store.put_doc(POLLED_NS, str(event.id), "1", ttl_s=SEEN_TTL_S)
        await self._store.set_cursor(POLL_CURSOR, str(newest))
        return 0 if first_start else len(fresh)


@dataclass(frozen=True, slots=True, eq=False)
class CacheSync:
    """Re-reads what changed in amoCRM since the last sync and applies it like any other change."""

    _store: Store
    _crm: CrmReader
    _processor: EventProcessor
    _clock: Clock

    async def sync_once(self) -> int:
        """Returns how many events the sync produced (0 when nothing had drifted)."""
        started = int(self._clock.now())
        produced = 0
        task_cursor = await self._store.get_cursor(TASK_SYNC_CURSOR)
        if task_cursor is None:
            tasks = await self._crm.tasks(is_completed=False)
        else:
            tasks = await self._crm.tasks(updated_since=int(task_cursor) - SYNC_OVERLAP_S)
        for task in tasks:
            hint = EntityHint(kind="task", id=task.id, source=HintSource.SYNC, at=task.updated_at)
            produced += len(await self._processor.apply_task(task.id, task, hint))
        await self._store.set_cursor(TASK_SYNC_CURSOR, str(started))

        deal_cursor = await self._store.get_cursor(DEAL_SYNC_CURSOR)
        since = (
            started - FIRST_DEAL_SYNC_WINDOW_S
            if deal_cursor is None
            else int(deal_cursor) - SYNC_OVERLAP_S
        )
        for deal in await self._crm.leads(updated_since=since):
            hint = EntityHint(kind="deal", id=deal.id, source=HintSource.SYNC, at=deal.updated_at)
            produced += len(await self._processor.apply_deal(deal.id, deal, hint))
        await self._store.set_cursor(DEAL_SYNC_CURSOR, str(started))
        if produced:
            log.info("sync repaired drift: %d events", produced)
        return produced
