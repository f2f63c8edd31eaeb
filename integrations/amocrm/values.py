"""Values the client takes (writes) or returns where the core has no type of its own."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.core import NewTask, TaskPatch

__all__ = ["NewTask", "TaskPatch", "Webhook", "new_task_body", "task_patch_body"]


def task_patch_body(patch: TaskPatch, *, with_id: bool = False) -> dict[str, object]:
    """The PATCH body of a task edit: only the fields that are set (amoCRM nests the result)."""
    result = {"text": patch.result_text} if patch.result_text is not None else None
    fields: dict[str, object] = {
        "is_completed": patch.is_completed,
        "result": result,
        "complete_till": patch.complete_till,
        "responsible_user_id": patch.responsible_user_id,
        "text": patch.text,
    }
    body: dict[str, object] = {"id": patch.id} if with_id else {}
    body.update((name, value) for name, value in fields.items() if value is not None)
    return body


def new_task_body(task: NewTask) -> dict[str, object]:
    return task.model_dump(exclude_none=True)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Webhook(_Value):
    id: int
    destination: str
    settings: tuple[str, ...] = ()
    disabled: bool = False
    sort: int = 0
    created_at: int = 0
