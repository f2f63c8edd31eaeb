"""Turn "the cache had X, amoCRM now has Y, and a hint says Z" into the CRM events in between.

Pure functions: no I/O. Events come from two sources that may overlap: the difference between
the cached and the current entity, and what a hint says (a webhook's old status, a creation).
The second matters when the cache already caught up (the sync read the entity first). Every event
is keyed by entity, version and kind, so whichever path reports a change first, the journal
keeps it once: webhook, events poll and sync converge on one set of events.
"""

from __future__ import annotations

from bot.core import CrmEvent, CrmEventKind, Deal, EntityHint, EntityKind, Task


def _event(
    kind: CrmEventKind,
    entity_kind: EntityKind,
    entity_id: int,
    version: int,
    hint: EntityHint | None,
    now: int,
    *,
    task: Task | None = None,
    deal: Deal | None = None,
    previous_task: Task | None = None,
    previous_deal: Deal | None = None,
) -> CrmEvent:
    # A creation happens once, whichever version first shows it: the events poll may bring the
    # "added" hint after the webhook's, when the entity has changed since (even completed), and
    # the journal must not take it for a second creation.
    once = kind in (CrmEventKind.TASK_CREATED, CrmEventKind.DEAL_CREATED)
    return CrmEvent(
        key=f"{entity_kind}:{entity_id}:{'once' if once else version}:{kind.value}",
        kind=kind,
        entity_kind=entity_kind,
        entity_id=entity_id,
        version=version,
        occurred_at=(hint.at if hint is not None and hint.at is not None else now),
        actor_id=hint.actor_id if hint is not None else None,
        via=hint.via if hint is not None else None,
        task=task,
        deal=deal,
        previous_task=previous_task,
        previous_deal=previous_deal,
    )


def task_events(
    before: Task | None, after: Task | None, hint: EntityHint | None, now: int
) -> list[CrmEvent]:
    """Events between two snapshots of one task (``None``: unknown before / deleted after)."""
    if after is None:
        if before is None:
            return []
        return [
            _event(CrmEventKind.TASK_DELETED, "task", before.id, before.updated_at, hint, now,
                   previous_task=before)
        ]  # fmt: skip
    if before is not None and after.updated_at < before.updated_at:
        return []  # an older read than the cache holds

    def make(kind: CrmEventKind) -> CrmEvent:
        return _event(kind, "task", after.id, after.updated_at, hint, now,
                      task=after, previous_task=before)  # fmt: skip

    seen: list[CrmEventKind] = []
    if before is not None and before != after:
        if after.is_completed and not before.is_completed:
            seen.append(CrmEventKind.TASK_COMPLETED)
        if after.complete_till != before.complete_till:
            seen.append(CrmEventKind.TASK_DEADLINE_CHANGED)
        if after.responsible_user_id != before.responsible_user_id:
            seen.append(CrmEventKind.TASK_RESPONSIBLE_CHANGED)
        if not seen:
            seen.append(CrmEventKind.TASK_UPDATED)
    if hint is not None and hint.action == "add":
        seen.insert(0, CrmEventKind.TASK_CREATED)
    if hint is not None and hint.action == "complete" and after.is_completed:
        seen.append(CrmEventKind.TASK_COMPLETED)
    return [make(kind) for kind in _distinct(seen, CrmEventKind.TASK_UPDATED)]


def deal_events(
    before: Deal | None, after: Deal | None, hint: EntityHint | None, now: int
) -> list[CrmEvent]:
    """Events between two snapshots of one deal (``None``: unknown before / deleted after)."""
    if after is None or after.is_deleted:
        if before is None:
            return []
        return [
            _event(CrmEventKind.DEAL_DELETED, "deal", before.id, before.updated_at, hint, now,
                   previous_deal=before, deal=after)
        ]  # fmt: skip
    if before is not None and after.updated_at < before.updated_at:
        return []

    events: dict[CrmEventKind, CrmEvent] = {}

    def add(kind: CrmEventKind, previous: Deal | None) -> None:
        events.setdefault(kind, _event(kind, "deal", after.id, after.updated_at, hint, now,
                                       deal=after, previous_deal=previous))  # fmt: skip

    if before is not None and before != after:
        if (after.status_id, after.pipeline_id) != (before.status_id, before.pipeline_id):
            add(CrmEventKind.DEAL_STATUS_CHANGED, before)
        if after.responsible_user_id != before.responsible_user_id:
            add(CrmEventKind.DEAL_RESPONSIBLE_CHANGED, before)
    if hint is not None:
        if hint.action == "add":
            add(CrmEventKind.DEAL_CREATED, None)
        # What the hint says the deal was, for when the cache never saw it so.
        if hint.old_status_id is not None and hint.old_status_id != after.status_id:
            add(CrmEventKind.DEAL_STATUS_CHANGED, after.model_copy(update={
                "status_id": hint.old_status_id,
                "pipeline_id": hint.old_pipeline_id or after.pipeline_id,
            }))  # fmt: skip
        old_responsible = hint.old_responsible_user_id
        if old_responsible is not None and old_responsible != after.responsible_user_id:
            add(CrmEventKind.DEAL_RESPONSIBLE_CHANGED,
                after.model_copy(update={"responsible_user_id": old_responsible}))  # fmt: skip
    if not events and before is not None and before != after:
        add(CrmEventKind.DEAL_UPDATED, before)
    return list(events.values())


def _distinct(kinds: list[CrmEventKind], generic: CrmEventKind) -> list[CrmEventKind]:
    """Each kind once, in order; the generic "updated" only when nothing more telling happened."""
    unique = list(dict.fromkeys(kinds))
    return unique if unique == [generic] else [k for k in unique if k is not generic]
