"""Turn "the cache had X, amoCRM now has Y" into the CRM events that happened in between.

Pure functions: no I/O. The cache comparison is what makes the webhook, the events poll and the
sync converge on one set of events: the second arrival of the same change finds the cache already
equal to amoCRM and yields nothing.
"""

from __future__ import annotations

from bot.domain import CrmEvent, CrmEventKind, Deal, EntityHint, EntityKind, Task


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
    return CrmEvent(
        key=f"{entity_kind}:{entity_id}:{version}:{kind.value}",
        kind=kind,
        entity_kind=entity_kind,
        entity_id=entity_id,
        version=version,
        occurred_at=(hint.at if hint is not None and hint.at is not None else now),
        actor_id=hint.actor_id if hint is not None else None,
        task=task,
        deal=deal,
        previous_task=previous_task,
        previous_deal=previous_deal,
    )


def task_events(
    before: Task | None, after: Task | None, hint: EntityHint | None, now: int
) -> list[CrmEvent]:
    """Events between two snapshots of one task (``None``: unknown before / deleted after)."""
    if before is None and after is None:
        return []
    if after is None:
        assert before is not None
        return [
            _event(
                CrmEventKind.TASK_DELETED,
                "task",
                before.id,
                before.updated_at,
                hint,
                now,
                previous_task=before,
            )
        ]

    def make(kind: CrmEventKind) -> CrmEvent:
        return _event(
            kind, "task", after.id, after.updated_at, hint, now, task=after, previous_task=before
        )

    if before is None:
        # First sight: only a hint can tell that this was a creation or a completion.
        if hint is not None and hint.action == "add":
            return [make(CrmEventKind.TASK_CREATED)]
        if hint is not None and hint.action == "complete" and after.is_completed:
            return [make(CrmEventKind.TASK_COMPLETED)]
        return []
    if before == after or after.updated_at < before.updated_at:
        return []
    events: list[CrmEvent] = []
    if after.is_completed and not before.is_completed:
        events.append(make(CrmEventKind.TASK_COMPLETED))
    if after.complete_till != before.complete_till:
        events.append(make(CrmEventKind.TASK_DEADLINE_CHANGED))
    if after.responsible_user_id != before.responsible_user_id:
        events.append(make(CrmEventKind.TASK_RESPONSIBLE_CHANGED))
    if not events:
        events.append(make(CrmEventKind.TASK_UPDATED))
    return events


def deal_events(
    before: Deal | None, after: Deal | None, hint: EntityHint | None, now: int
) -> list[CrmEvent]:
    """Events between two snapshots of one deal (``None``: unknown before / deleted after)."""
    if after is None or after.is_deleted:
        if before is None:
            return []
        return [
            _event(
                CrmEventKind.DEAL_DELETED,
                "deal",
                before.id,
                before.updated_at,
                hint,
                now,
                previous_deal=before,
                deal=after,
            )
        ]

    def make(kind: CrmEventKind, previous: Deal | None) -> CrmEvent:
        return _event(
            kind, "deal", after.id, after.updated_at, hint, now, deal=after, previous_deal=previous
        )

    if before is None:
        if hint is None:
            return []
        if hint.action == "add":
            return [make(CrmEventKind.DEAL_CREATED, None)]
        # Rebuild the previous state from what the hint says, so that a deal seen for the first
        # time still yields "moved from Qualified to Negotiation".
        events: list[CrmEvent] = []
        if hint.old_status_id is not None and hint.old_status_id != after.status_id:
            was = after.model_copy(
                update={
                    "status_id": hint.old_status_id,
                    "pipeline_id": hint.old_pipeline_id or after.pipeline_id,
                }
            )
            events.append(make(CrmEventKind.DEAL_STATUS_CHANGED, was))
        if (
            hint.old_responsible_user_id is not None
            and hint.old_responsible_user_id != after.responsible_user_id
        ):
            was = after.model_copy(update={"responsible_user_id": hint.old_responsible_user_id})
            events.append(make(CrmEventKind.DEAL_RESPONSIBLE_CHANGED, was))
        return events
    if before == after or after.updated_at < before.updated_at:
        return []
    events = []
    if (after.status_id, after.pipeline_id) != (before.status_id, before.pipeline_id):
        events.append(make(CrmEventKind.DEAL_STATUS_CHANGED, before))
    if after.responsible_user_id != before.responsible_user_id:
        events.append(make(CrmEventKind.DEAL_RESPONSIBLE_CHANGED, before))
    if not events:
        events.append(make(CrmEventKind.DEAL_UPDATED, before))
    return events
