"""Tasks changed as a person in the amoCRM UI would change them (the part of `AccountActions`
that is about tasks), and the base every action stands on: the acting user and the webhook sink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sandbox.amocrm.hookfields import task_fields
from sandbox.amocrm.records import TASK_TYPES, HookChange, Task
from sandbox.amocrm.state import AccountState

HookSink = Callable[[HookChange], None]

# Contacts, companies and customers are not modelled: tasks may point at any of their ids.
ENTITY_TYPES = ("leads", "contacts", "companies", "customers")

# The task fields whose change amoCRM logs as an event with the value before and after:
# (event type, value key, key inside it, Task field), in the order amoCRM logs them.
_LOGGED_CHANGES = (
    ("entity_responsible_changed", "responsible_user", "id", "responsible_user_id"),
    ("task_deadline_changed", "task_deadline", "timestamp", "complete_till"),
    ("task_text_changed", "task", "text", "text"),
    ("task_type_changed", "task_type", "id", "task_type_id"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEdit:
    """A partial task update; None leaves a field as it is."""

    text: str | None = None
    complete_till: int | None = None
    responsible_user_id: int | None = None
    is_completed: bool | None = None
    result_text: str | None = None
    task_type_id: int | None = None
    duration: int | None = None
    entity: tuple[str, int] | None = None  # (entity_type, entity_id)


class ActionBase:
    """The account's state, who acts (``by_user``, by default the admin) and where the webhook
    view of each change goes."""

    def __init__(self, state: AccountState, sink: HookSink) -> None:
        self._state = state
        self._sink = sink

    def _actor(self, by_user: int | None) -> int:
        return self._state.admin_user_id if by_user is None else by_user

    def _emit(self, entity: str, **actions: dict[str, str]) -> None:
        self._sink(HookChange(entity="leads" if entity == "leads" else "task", actions=actions))


class TaskActions(ActionBase):
    def add_task(
        self,
        text: str,
        *,
        responsible_user_id: int,
        complete_till: int,
        entity_type: str | None = "leads",
        entity_id: int | None = None,
        task_type_id: int = 1,
        duration: int = 0,
        by_user: int | None = None,
    ) -> int:
        state = self._state
        state.user(responsible_user_id)
        self._check_task_type(task_type_id)
        if entity_id is None:
            entity_type = None
        else:
            self._check_entity(entity_type, entity_id)
        actor = self._actor(by_user)
        task = Task(
            **state.made_and_updated("task", responsible_user_id, actor),
            text=text,
            task_type_id=task_type_id,
            entity_type=entity_type,
            entity_id=entity_id,
            complete_till=complete_till,
            duration=duration,
        )
        state.tasks[task.id] = task
        state.record_event("task_added", entity_type="task", entity_id=task.id, created_by=actor)
        self._emit("task", add=task_fields(task, state.account_id))
        return task.id

    def edit_task(self, task_id: int, edit: TaskEdit, *, by_user: int | None = None) -> Task:
        """Apply a partial update; only real changes are logged and hooked."""
        state = self._state
        old = state.tasks[task_id]
        if edit.responsible_user_id is not None:
            state.user(edit.responsible_user_id)
        if edit.task_type_id is not None:
            self._check_task_type(edit.task_type_id)
        task = old
        for name in ("text", "complete_till", "is_completed", "task_type_id", "duration"):
            value = getattr(edit, name)
            if value is not None:
                task = replace(task, **{name: value})
        if edit.responsible_user_id is not None:
            task = replace(
                task,
                responsible_user_id=edit.responsible_user_id,
                group_id=state.group_of(edit.responsible_user_id),
            )
        if edit.entity is not None:
            self._check_entity(*edit.entity)
            task = replace(task, entity_type=edit.entity[0], entity_id=edit.entity[1])
        if edit.result_text is not None and edit.result_text != old.result_text:
            note_id = state.next_id("note")
            task = replace(task, result_text=edit.result_text, result_note_id=note_id)
        if task == old:
            return old
        actor = self._actor(by_user)
        task = replace(task, updated_by=actor, updated_at=state.now())
        state.tasks[task_id] = task
        self._log_task_events(old, task, actor)
        closed_now = task.is_completed and not old.is_completed
        fields = task_fields(task, state.account_id, closed_now=closed_now)
        hooks: dict[str, dict[str, str]] = {"update": fields}
        if task.responsible_user_id != old.responsible_user_id:
            hooks["responsible"] = {
                **fields,
                "old_responsible_user_id": str(old.responsible_user_id),
            }
        self._emit("task", **hooks)
        return task

    def delete_task(self, task_id: int, *, by_user: int | None = None) -> None:
        state = self._state
        task = state.tasks.pop(task_id)
        state.record_event(
            "task_deleted", entity_type="task", entity_id=task.id, created_by=self._actor(by_user)
        )
        self._emit("task", delete={"id": str(task_id)})

    def _log_task_events(self, old: Task, new: Task, actor: int) -> None:
        record = self._state.record_event
        for event, key, inner, field in _LOGGED_CHANGES:
            before, after = getattr(old, field), getattr(new, field)
            if after != before:
                values = {"after": ({key: {inner: after}},), "before": ({key: {inner: before}},)}
                record(event, entity_type="task", entity_id=new.id, created_by=actor, **values)
        if new.is_completed and not old.is_completed:
            record("task_completed", entity_type="task", entity_id=new.id, created_by=actor)
        if new.result_note_id != old.result_note_id:
            record("task_result_added", entity_type="task", entity_id=new.id, created_by=actor,
                   after=({"note": {"id": new.result_note_id}},))  # fmt: skip

    def _check_entity(self, entity_type: str | None, entity_id: int) -> None:
        if entity_type not in ENTITY_TYPES:
            raise ValueError(f"unknown entity_type {entity_type!r}")
        if entity_type == "leads":
            self._state.live_lead(entity_id)

    def _check_task_type(self, task_type_id: int) -> None:
        if task_type_id not in {type_id for type_id, _, _ in TASK_TYPES}:
            raise ValueError(f"unknown task type {task_type_id}")
