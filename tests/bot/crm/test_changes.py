"""Deriving CRM events from two snapshots of one entity."""

from __future__ import annotations

from bot.core.domain import CrmEventKind, Deal, EntityHint, HintSource, Task
from bot.crm.changes import deal_events, task_events

NOW = 1_800_000_000
TASK = Task(id=7, text="Call", responsible_user_id=1, complete_till=NOW + 3600, updated_at=NOW)
DEAL = Deal(id=5, name="Big", status_id=10, pipeline_id=1, responsible_user_id=1, updated_at=NOW)


def hint(kind: str, **fields: object) -> EntityHint:
    data = {"kind": kind, "id": 5 if kind == "deal" else 7, "source": HintSource.WEBHOOK, **fields}
    return EntityHint.model_validate(data)


def kinds(events: list) -> list[CrmEventKind]:  # type: ignore[type-arg]
    return [e.kind for e in events]


def test_it_sees_a_completion_a_new_deadline_and_a_new_responsible_at_once() -> None:
    after = TASK.model_copy(
        update={
            "is_completed": True,
            "complete_till": NOW,
            "responsible_user_id": 2,
            "updated_at": NOW + 5,
        }
    )
    events = task_events(TASK, after, None, NOW + 6)
    assert kinds(events) == [
        CrmEventKind.TASK_COMPLETED,
        CrmEventKind.TASK_DEADLINE_CHANGED,
        CrmEventKind.TASK_RESPONSIBLE_CHANGED,
    ]
    assert all(e.previous_task == TASK and e.task == after for e in events)
    assert events[0].key == f"task:7:{NOW + 5}:task_completed"


def test_it_yields_nothing_for_an_unchanged_or_older_snapshot() -> None:
    assert task_events(TASK, TASK, None, NOW) == []
    older = TASK.model_copy(update={"text": "x", "updated_at": NOW - 1})
    assert task_events(TASK, older, None, NOW) == []
    assert (
        deal_events(
            DEAL, DEAL.model_copy(update={"updated_at": NOW - 1, "status_id": 3}), None, NOW
        )
        == []
    )


def test_it_needs_a_hint_to_call_a_first_sight_a_creation() -> None:
    assert task_events(None, TASK, None, NOW) == []
    assert kinds(task_events(None, TASK, hint("task", action="add"), NOW)) == [
        CrmEventKind.TASK_CREATED
    ]
    done = TASK.model_copy(update={"is_completed": True})
    assert kinds(task_events(None, done, hint("task", action="complete"), NOW)) == [
        CrmEventKind.TASK_COMPLETED
    ]


def test_it_rebuilds_the_previous_status_of_a_deal_it_never_saw_from_the_hint() -> None:
    [event] = deal_events(
        None,
        DEAL,
        hint("deal", action="status", old_status_id=9, old_pipeline_id=2, actor_id=4, at=NOW - 3),
        NOW,
    )
    assert event.kind is CrmEventKind.DEAL_STATUS_CHANGED
    assert event.previous_deal is not None
    assert (event.previous_deal.status_id, event.previous_deal.pipeline_id) == (9, 2)
    assert (event.actor_id, event.occurred_at) == (4, NOW - 3)


def test_it_reports_a_deletion_only_of_what_it_knew() -> None:
    assert deal_events(None, None, hint("deal", action="delete"), NOW) == []
    [event] = deal_events(DEAL, None, hint("deal", action="delete"), NOW)
    assert event.kind is CrmEventKind.DEAL_DELETED
    assert event.previous_deal == DEAL
    assert kinds(task_events(TASK, None, None, NOW)) == [CrmEventKind.TASK_DELETED]


def test_it_calls_a_change_of_anything_else_an_update() -> None:
    renamed = DEAL.model_copy(update={"name": "Bigger", "updated_at": NOW + 1})
    assert kinds(deal_events(DEAL, renamed, None, NOW)) == [CrmEventKind.DEAL_UPDATED]
    moved = DEAL.model_copy(update={"status_id": 142, "updated_at": NOW + 1})
    assert kinds(deal_events(DEAL, moved, None, NOW)) == [CrmEventKind.DEAL_STATUS_CHANGED]


def test_a_creation_has_one_key_whichever_version_shows_it() -> None:
    # The events poll's "added" hint can come after the webhook's, once the task is completed:
    # the journal (unique keys) must see the same creation, not a second one.
    first = task_events(None, TASK, hint("task", action="add"), NOW)
    done = TASK.model_copy(update={"is_completed": True, "updated_at": NOW + 60})
    later = task_events(TASK, done, hint("task", action="add"), NOW + 61)
    assert kinds(later) == [CrmEventKind.TASK_CREATED, CrmEventKind.TASK_COMPLETED]
    assert later[0].key == first[0].key
    assert later[1].key == f"task:7:{NOW + 60}:task_completed"
    moved = DEAL.model_copy(update={"status_id": 11, "updated_at": NOW + 60})
    assert (
        deal_events(DEAL, moved, hint("deal", action="add"), NOW + 61)[-1].key
        == deal_events(None, DEAL, hint("deal", action="add"), NOW)[0].key
    )
